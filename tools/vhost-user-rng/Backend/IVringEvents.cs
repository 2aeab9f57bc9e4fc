// What a session needs from whoever runs it: watching kick fds and waking a ring later.
// The connection implements it on the event loop; tests and benchmarks may drive a session
// without one.

namespace VhostUserRng.Backend;

public interface IVringEvents
{
    /// <summary>Starts watching the kick fd of ring <paramref name="index"/>; returns a token, or 0 with errno.</summary>
    ulong WatchKick(int index, int fd, out int errno);

    void UnwatchKick(int fd, ulong token);

    /// <summary>Serve ring <paramref name="index"/> again at <paramref name="dueNs"/> (monotonic).</summary>
    void ServeLater(int index, long dueNs);

    /// <summary>Forget any pending <see cref="ServeLater"/> for ring <paramref name="index"/>.</summary>
    void CancelServe(int index);
}
