using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // Wakes a CPU sleeping in Irq.WaitLocalDisabled(deadline) when no device does: the local
    // APIC timer, one-shot, on Linux's LOCAL_TIMER_VECTOR. Its rate (the APIC bus clock / 16)
    // is published nowhere the kernel can read, so it is measured against the calibrated TSC
    // clock, like Linux's calibrate_APIC_clock but without a wait of its own: the timer
    // free-runs (masked) from Init, and the first Arm divides the counts it ran by the time
    // that passed since - milliseconds of boot by then.
    internal static class WakeupTimer
    {
        private const uint FreeRun = 0xFFFFFFFF;
        private const ulong MinMeasureNs = 100000;  // 100 us, if a wait comes that soon
        private static bool ready;
        private static ulong freeRunStartNs;
        private static ulong ticksPerSecond;        // 0 until measured

        internal static void Init()
        {
            Interrupts.AttachLocalTimer(new Expired());
            LocalApic.ConfigureTimer(LocalApic.LvtMasked | Interrupts.LocalTimerVector);
            StartFreeRun();
            ready = true;
        }

        // False when there is no timer to wake the CPU.
        internal static bool Arm(ulong deadlineNs)
        {
            if (!ready) return false;
            if (ticksPerSecond == 0) Measure();
            ulong now = Timer.NowNs();
            ulong ns = deadlineNs > now ? deadlineNs - now : 0;
            ulong ticks = ns / 1000000000 * ticksPerSecond + ns % 1000000000 * ticksPerSecond / 1000000000;
            // Further than one count reaches: wake early; the caller sees its deadline ahead
            // and sleeps again.
            LocalApic.StartTimer(ticks == 0 ? 1 : ticks > FreeRun ? FreeRun : (uint)ticks);
            return true;
        }

        internal static void Disarm()
        {
            if (ready) LocalApic.StopTimer();
        }

        private static void StartFreeRun()
        {
            freeRunStartNs = Timer.NowNs();
            LocalApic.StartTimer(FreeRun);
        }

        private static void Measure()
        {
            if (LocalApic.TimerCount == 0) StartFreeRun();   // ran out (over a minute unused): again
            ulong elapsedNs;
            while ((elapsedNs = Timer.NowNs() - freeRunStartNs) < MinMeasureNs) Cpu.Relax();
            ulong ran = FreeRun - LocalApic.TimerCount;
            ticksPerSecond = ran * 1000000000 / elapsedNs;
            if (ticksPerSecond == 0) ticksPerSecond = 1;
            LocalApic.StopTimer();
            LocalApic.ConfigureTimer(Interrupts.LocalTimerVector);   // unmasked from now on
        }

        // One-shot: the timer has stopped itself; Interrupts.Handle sends the EOI.
        private sealed class Expired : InterruptHandler
        {
            public override void Handle() { }
        }
    }
}
