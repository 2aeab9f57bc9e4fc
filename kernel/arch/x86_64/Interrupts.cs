using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // Device interrupt vectors (32-255). Delivery (local APIC, MSI-X) comes with the MSI-X work;
    // until then any device interrupt is unexpected and reported, not ignored.
    internal static class Interrupts
    {
        internal static ulong Unexpected;

        internal static void Handle(uint vector)
        {
            Unexpected++;
            Log.Write("interrupt: unexpected vector ");
            Log.Dec(vector);
            Log.Line();
        }
    }
}
