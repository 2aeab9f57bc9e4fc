using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // IRQ entry on arm64. The GIC drivers (v2 with the v2m MSI frame, v3 with the ITS) are not
    // written yet: no MSI can be allocated, so drivers poll, and any IRQ is reported.
    internal static class Interrupts
    {
        internal static ulong Taken, Unexpected;

        internal static void Init() { }

        internal static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
        {
            message = default;
            return false;
        }

        internal static bool AllocateVector(InterruptHandler handler, out uint vector)
        {
            vector = 0;
            return false;
        }

        internal static void SendSelfTest(uint vector) => Panic.Halt("interrupts: the GIC is not supported yet on arm64");

        internal static void Handle()
        {
            Taken++;
            Unexpected++;
            Log.Write("interrupt: unexpected IRQ");
            Log.Line();
        }
    }
}
