// Waiting for a condition in another thread (the backend's event loop) without burning the
// CPU it needs. Timeouts are generous: they detect hangs, they do not measure speed.

using System;
using System.Diagnostics;
using System.Threading;

namespace VhostUser.Tests.Frontend;

public static class Wait
{
    public const int DefaultTimeoutMs = 5000;

    public static bool Until(Func<bool> condition, int timeoutMs = DefaultTimeoutMs)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) return false;
            Thread.Sleep(1);
        }
        return true;
    }
}
