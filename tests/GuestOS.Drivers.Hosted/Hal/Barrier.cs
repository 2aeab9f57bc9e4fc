using System.Threading;

namespace GuestOS.Hal
{
    // HAL contract: Linux's barriers. Hosted: a full fence each (stronger than needed, never
    // weaker); every call is counted so tests can see that the ring code issues them.
    public static class Barrier
    {
        public static void mb() { Hosted.BarrierLog.Count(Hosted.BarrierKind.mb); Interlocked.MemoryBarrier(); }
        public static void rmb() { Hosted.BarrierLog.Count(Hosted.BarrierKind.rmb); Interlocked.MemoryBarrier(); }
        public static void wmb() { Hosted.BarrierLog.Count(Hosted.BarrierKind.wmb); Interlocked.MemoryBarrier(); }
        public static void dma_rmb() { Hosted.BarrierLog.Count(Hosted.BarrierKind.dma_rmb); Interlocked.MemoryBarrier(); }
        public static void dma_wmb() { Hosted.BarrierLog.Count(Hosted.BarrierKind.dma_wmb); Interlocked.MemoryBarrier(); }
        public static void virt_mb() { Hosted.BarrierLog.Count(Hosted.BarrierKind.virt_mb); Interlocked.MemoryBarrier(); }
    }
}

namespace GuestOS.Hal.Hosted
{
    public enum BarrierKind { mb, rmb, wmb, dma_rmb, dma_wmb, virt_mb }

    public static class BarrierLog
    {
        public static readonly long[] Counts = new long[6];
        // Runs at every barrier: a test sees ring memory exactly there (what the driver
        // stored before the barrier) and can change what the device shows (what the driver
        // may only load after it).
        public static System.Action<BarrierKind> OnBarrier;
        public static void Reset() { System.Array.Clear(Counts); OnBarrier = null; }
        internal static void Count(BarrierKind k) { Counts[(int)k]++; OnBarrier?.Invoke(k); }
        public static long Get(BarrierKind k) { return Counts[(int)k]; }
    }
}
