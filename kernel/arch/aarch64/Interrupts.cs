using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // IRQ entry. The GIC (v2 with v2m, v3 with ITS) comes with the MSI-X work; until then any
    // interrupt is unexpected and reported, not ignored.
    internal static class Interrupts
    {
        internal static ulong Unexpected;

        internal static void Handle()
        {
            Unexpected++;
            Log.Write("interrupt: unexpected IRQ");
            Log.Line();
        }
    }
}
