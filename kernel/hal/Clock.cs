using GuestOS.Kernel.Arch;

namespace GuestOS.Hal
{
    // Monotonic time from the architecture's counter (calibrated TSC on x86, CNTVCT on arm64).
    public static class Clock
    {
        public static ulong NowNs() => Timer.NowNs();

        public static void DelayUs(ulong microseconds)
        {
            ulong end = Timer.NowNs() + microseconds * 1000;
            while (Timer.NowNs() < end) Cpu.Relax();
        }
    }

}
