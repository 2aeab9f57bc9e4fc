// CLOCK_MONOTONIC in nanoseconds, for the rate limiter and timers.

using System.Diagnostics;

namespace VhostUserRng.Rng;

public static class MonotonicClock
{
    private static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    public static long NowNs() => Stopwatch.Frequency == 1_000_000_000
        ? Stopwatch.GetTimestamp()
        : (long)(Stopwatch.GetTimestamp() * NsPerTick);
}
