// eventfd(2): the vhost-user kick, call and err notifiers. The frontend may hand us any fd
// (the vhost-user document allows pipes too), so reads and writes tolerate short results.

namespace VhostUserRng.Interop;

public static unsafe class EventFd
{
    public static int Create(bool nonBlocking = true)
    {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0));
        if (fd < 0) throw new System.InvalidOperationException($"eventfd: {Libc.LastErrorText}");
        return fd;
    }

    /// <summary>Adds 1 to the counter; returns 0 or the errno of a failed write.</summary>
    public static int Signal(int fd)
    {
        ulong one = 1;
        return Libc.write(fd, &one, 8) == 8 ? 0 : Libc.LastErrno;
    }

    /// <summary>Reads (and so resets) the counter into <paramref name="value"/> (0 if nothing was
    /// pending). Returns false if the fd is dead: end of file, or an error other than EAGAIN,
    /// as happens when a frontend passes a pipe or socket whose other end is closed.</summary>
    public static bool Drain(int fd, out ulong value)
    {
        ulong v = 0;
        nint n = Libc.read(fd, &v, 8);
        value = n > 0 ? v : 0;
        return n > 0 || (n < 0 && (Libc.LastErrno == Libc.EAGAIN || Libc.LastErrno == Libc.EINTR));
    }
}
