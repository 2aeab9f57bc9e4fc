// A monotonic clock that moves only when the test says so, for the backend's rate limit and
// timers (RngBackend takes it in place of MonotonicClock): rate-limit tests then assert exact
// byte counts at exact instants instead of comparing against the wall clock.

using System.Threading;

namespace VhostUser.Tests.Frontend;

public sealed class FakeClock
{
    private long _ns = 1_000_000_000;   // any start will do; not 0, so that nothing relies on it

    public long NowNs() => Interlocked.Read(ref _ns);

    /// <summary>Moves the clock on. The backend's event loop notices at its next wake-up; send
    /// it a message (TestFrontend.Sync) to make that now.</summary>
    public void Advance(long ns) => Interlocked.Add(ref _ns, ns);
}
