namespace GuestOS.Hal
{
    // HAL contract: time. Hosted: virtual time that only moves when the driver waits
    // (DelayUs, Cpu.Relax), so timeouts are deterministic and tests run fast.
    public static class Clock
    {
        public static ulong NowNs() { return Hosted.VirtualTime.Ns; }

        public static void DelayUs(ulong microseconds)
        {
            Hosted.VirtualTime.Ns += microseconds * 1000;
            Hosted.VirtualTime.Tick();
        }
    }
}

namespace GuestOS.Hal.Hosted
{
    public static class VirtualTime
    {
        public static ulong Ns;
        public static ulong RelaxNs = 1000;
        public static long Relaxes;
        // Called whenever the driver waits: the simulated devices do their work here.
        public static System.Action OnTick;

        internal static void Tick() { OnTick?.Invoke(); }

        public static void Reset() { Ns = 0; RelaxNs = 1000; Relaxes = 0; OnTick = null; }
    }
}
