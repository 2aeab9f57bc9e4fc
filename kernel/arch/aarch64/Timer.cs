namespace GuestOS.Kernel.Arch
{
    // Monotonic time from the generic timer's virtual counter (CNTVCT_EL0), whose frequency
    // firmware or QEMU publishes in CNTFRQ_EL0 (62.5 MHz on QEMU virt).
    internal static class Timer
    {
        private static ulong counterAtEntry;
        private static ulong nsPerTickShift32;
        internal static ulong CounterHz;

        internal static void MarkEntry() => counterAtEntry = Machine.ReadCounter();

        internal static void Calibrate()
        {
            CounterHz = Machine.ReadCounterFrequency();
            if (CounterHz == 0) Panic.Halt("clock: CNTFRQ_EL0 is 0; the counter frequency is unknown"u8);
            nsPerTickShift32 = (1000000000UL << 32) / CounterHz;
        }

        // The counter value NowNs() reads as `ns` (what a timer compare register wants).
        internal static ulong CounterAt(ulong ns)
            => counterAtEntry + ns / 1000000000 * CounterHz + ns % 1000000000 * CounterHz / 1000000000;

        internal static ulong NowNs() => TicksToNs(Ticks());

        // Counter ticks since kernel entry: a timestamp that can be taken before Calibrate and
        // converted after it (the boot phases, hal/BootPhases.cs).
        internal static ulong Ticks() => Machine.ReadCounter() - counterAtEntry;

        internal static ulong TicksToNs(ulong ticks)
            => (ticks >> 32) * nsPerTickShift32 + (((ticks & 0xFFFFFFFF) * nsPerTickShift32) >> 32);
    }
}
