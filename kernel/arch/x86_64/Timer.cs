using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // Monotonic time from the TSC, calibrated once against the 8254 PIT (1.193182 MHz) as
    // Linux's pit_calibrate_tsc does - latch-read the PIT while the TSC runs, and divide - but
    // without a wait of its own (as WakeupTimer measures the APIC timer): the PIT starts
    // counting at kernel entry, so the boot's work before Calibrate is the calibration window.
    // Under TCG that window is milliseconds; a 1 ms wait in Calibrate cost 1.5-6 ms of guest
    // time, every PIT read being three trapped port accesses. Only a window shorter than 1 ms
    // is waited out.
    internal static class Timer
    {
        private const uint PitHz = 1193182;
        private const ushort PitChannel0 = 0x40, PitCommand = 0x43;
        private const byte Mode0 = 0x30;                      // channel 0, lo/hi byte, mode 0 (interrupt on terminal count), binary
        private const byte ReadBack0 = 0xC2;                  // read-back: latch count and status of channel 0
        private const byte StatusOut = 0x80;                  // status bit 7: the OUT pin (set at terminal count in mode 0)
        private const uint CalibrationTicks = PitHz / 1000;   // at least 1 ms: +-1 PIT tick is 0.08%

        private static ulong tscAtEntry;
        private static ulong tscAtPitStart;                   // TSC (absolute) when the PIT was loaded
        private static ulong nsPerTscShift32;                 // ns per TSC tick, in 32.32 fixed point
        internal static ulong TscHz;

        internal static void MarkEntry()
        {
            tscAtEntry = Machine.Rdtsc();
            StartPit();
        }

        // Mode 0 from 0xFFFF: counts down once (55 ms), then raises OUT, which stays up; so a
        // window longer than the PIT can count is seen, not folded back.
        private static void StartPit()
        {
            Io.outb(PitCommand, Mode0);
            Io.outb(PitChannel0, 0xFF);
            ulong before = Machine.Rdtsc();
            Io.outb(PitChannel0, 0xFF);                       // the count loads with this write
            tscAtPitStart = before + (Machine.Rdtsc() - before) / 2;
        }

        internal static void Calibrate()
        {
            bool restarted = false;
            ulong elapsed, tsc;
            int unchanged = 0;
            ulong previous = ulong.MaxValue;
            while (true)
            {
                ulong before = Machine.Rdtsc();
                Io.outb(PitCommand, ReadBack0);
                ulong after = Machine.Rdtsc();
                byte status = Io.inb(PitChannel0);
                byte low = Io.inb(PitChannel0);
                byte high = Io.inb(PitChannel0);
                elapsed = 0xFFFFu - (uint)(low | (high << 8));
                tsc = before + (after - before) / 2 - tscAtPitStart;
                if ((status & StatusOut) != 0)
                {
                    // The PIT ran out (a boot stalled for 55 ms): measure afresh, once. No PIT
                    // at all reads all-ones, OUT included.
                    if (restarted) { elapsed = 0; break; }
                    StartPit();
                    restarted = true;
                    continue;
                }
                if (elapsed >= CalibrationTicks) break;
                if (elapsed == previous && ++unchanged > 1000000) break;
                previous = elapsed;
                Cpu.Relax();
            }
            if (elapsed < CalibrationTicks || tsc == 0)
            {
                TscHz = 1000000000;
                Log.Write("clock: the PIT does not count; assuming a 1 GHz TSC"u8);
                Log.Line();
            }
            else
            {
                TscHz = tsc * PitHz / elapsed;
            }
            nsPerTscShift32 = (1000000000UL << 32) / TscHz;
        }

        // Nanoseconds since kernel entry (0 until calibrated).
        internal static ulong NowNs() => TicksToNs(Ticks());

        // TSC ticks since kernel entry: a timestamp that can be taken before calibration and
        // converted after it (the boot phases, hal/BootPhases.cs).
        internal static ulong Ticks() => Machine.Rdtsc() - tscAtEntry;

        internal static ulong TicksToNs(ulong ticks)
        {
            // 64x64 -> 128-bit product, shifted right 32, without overflow.
            return (ticks >> 32) * nsPerTscShift32 + (((ticks & 0xFFFFFFFF) * nsPerTscShift32) >> 32);
        }
    }
}
