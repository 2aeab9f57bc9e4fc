using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // Monotonic time from the TSC, calibrated once against the 8254 PIT (1.193182 MHz) the way
    // Linux's pit_calibrate_tsc does: program channel 0 as a free-running rate generator,
    // latch-read it while the TSC runs, and divide.
    internal static class Timer
    {
        private const uint PitHz = 1193182;
        private const ushort PitChannel0 = 0x40, PitCommand = 0x43;
        private const uint CalibrationTicks = PitHz / 1000;  // 1 ms: +-1 PIT tick is 0.08%

        private static ulong tscAtEntry;
        private static ulong nsPerTscShift32;                 // ns per TSC tick, in 32.32 fixed point
        internal static ulong TscHz;

        internal static void MarkEntry() => tscAtEntry = Machine.Rdtsc();

        internal static void Calibrate()
        {
            Io.outb(PitCommand, 0x34);                        // channel 0, lo/hi byte, mode 2, binary
            Io.outb(PitChannel0, 0xFF);
            Io.outb(PitChannel0, 0xFF);                       // reload 0xFFFF (wraps every 55 ms)
            ushort previous = ReadPit();
            ulong elapsed = 0;
            ulong start = Machine.Rdtsc();
            int unchanged = 0;
            while (elapsed < CalibrationTicks)
            {
                ushort now = ReadPit();
                ushort delta = (ushort)(previous - now);      // counts down; wraps modulo 2^16
                if (delta == 0 && ++unchanged > 1000000) break;
                elapsed += delta;
                previous = now;
            }
            ulong tsc = Machine.Rdtsc() - start;
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

        private static ushort ReadPit()
        {
            Io.outb(PitCommand, 0x00);                        // latch channel 0
            byte low = Io.inb(PitChannel0);
            byte high = Io.inb(PitChannel0);
            return (ushort)(low | (high << 8));
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
