using GuestOS.Kernel.Arch;

namespace GuestOS.Hal
{
    // Code to run when an interrupt arrives. The kernel has no delegates, so a handler is an
    // object with a virtual method.
    public abstract class InterruptHandler
    {
        public abstract void Handle();
    }

    // The message a PCI function writes to raise an MSI / MSI-X interrupt (PCIe 5.0 §6.1.4).
    public struct MsiMessage
    {
        public ulong Address;
        public uint Data;
    }

    // Interrupts as drivers see them: allocate an MSI routed to a handler, and wait without
    // losing a wake-up. The waiting rule, for every loop that sleeps until a completion:
    //
    //     Irq.DisableLocal();
    //     while (!work_is_done()) Irq.WaitLocalDisabled();   // sleeps, takes the interrupt, masked again
    //     Irq.EnableLocal();
    //
    // Checking with interrupts enabled and then halting loses the interrupt that lands between
    // the check and the halt: the CPU sleeps with the work already done.
    public static class Irq
    {
        public static ulong Taken => Interrupts.Taken;

        // False when the platform has no MSI controller or no free vector.
        // requesterId = bus << 8 | device << 3 | function (the ITS needs it; others ignore it).
        public static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
            => Interrupts.AllocateMsi(requesterId, handler, out message);

        public static void DisableLocal() => Machine.DisableInterrupts();
        public static void EnableLocal() => Machine.EnableInterrupts();

        // Called with local interrupts disabled; returns with them disabled, after at least one
        // interrupt (or a spurious wake-up) has been taken.
        public static void WaitLocalDisabled() => Machine.WaitForInterruptDisabled();
    }
}
