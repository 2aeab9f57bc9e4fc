using GuestOS.Kernel.Arch;

namespace GuestOS.Hal
{
    // Interrupts as drivers see them (HAL contract, drivers/README.md; InterruptHandler and
    // MsiMessage live in drivers/Interrupts.cs): allocate an MSI routed to a handler, and wait
    // without losing a wake-up. The waiting rule, for every loop that sleeps until a completion:
    //
    //     Irq.DisableLocal();
    //     while (!work_is_done() && Clock.NowNs() < deadline)
    //         Irq.WaitLocalDisabled(deadline);               // sleeps, takes the interrupt, masked again
    //     Irq.EnableLocal();
    //
    // Checking with interrupts enabled and then halting loses the interrupt that lands between
    // the check and the halt: the CPU sleeps with the work already done. Every sleep has a
    // deadline, so a device that stops answering is reported rather than hanging the kernel.
    public static class Irq
    {
        public static ulong Taken => Interrupts.Taken;

        // False when the platform has no MSI controller or no free vector.
        // requesterId = bus << 8 | device << 3 | function (the ITS needs it; others ignore it).
        public static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
            => Interrupts.AllocateMsi(requesterId, handler, out message);

        // Route a wired line (IOAPIC GSI on x86, GIC SPI on arm64) to handler, with the trigger
        // and polarity the platform described, and unmask it. False when the platform has no
        // such controller or line.
        public static bool AttachWired(WiredIrq irq, InterruptHandler handler)
            => Interrupts.AttachWired(irq, handler);

        // Where a PCI function's INTx pin (1-4 = INTA-INTD, configuration 0x3D) arrives, from
        // what the platform provides: x86 - the interrupt line firmware wrote (0x3C), through
        // the MADT's source overrides; arm64 - the host bridge's interrupt-map.
        public static bool RoutePciIntx(ushort requesterId, byte pin, byte line, out WiredIrq irq)
            => Interrupts.RoutePciIntx(requesterId, pin, line, out irq);

        public static void DisableLocal() => Machine.DisableInterrupts();
        public static void EnableLocal() => Machine.EnableInterrupts();

        // Called with local interrupts disabled; returns with them disabled, after at least one
        // interrupt (a device's, the wake-up timer's at the deadline, or a spurious wake-up)
        // has been taken - or at once when the deadline has passed.
        public static void WaitLocalDisabled(ulong deadlineNs)
        {
            if (Clock.NowNs() >= deadlineNs) return;
            // No timer (no interrupt controller): the caller polls until its deadline.
            if (!WakeupTimer.Arm(deadlineNs)) return;
            Machine.WaitForInterruptDisabled();
            WakeupTimer.Disarm();
        }
    }
}
