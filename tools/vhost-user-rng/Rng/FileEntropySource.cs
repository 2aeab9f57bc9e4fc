// --rng-source PATH: a character device (/dev/urandom, /dev/hwrng) or a file. Opened
// non-blocking so that a slow hardware generator delays only the guests waiting for it, never
// the event loop. A regular file is read once, front to back: entropy is never replayed.

using System;
using VhostUserRng.Interop;

namespace VhostUserRng.Rng;

public sealed unsafe class FileEntropySource : IEntropySource
{
    private readonly int _fd;
    private readonly Action<string> _warn;
    private bool _reportedEnd;

    public string Name { get; }

    public FileEntropySource(string path, Action<string> warn)
    {
        _fd = Libc.open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (_fd < 0) throw new InvalidOperationException($"cannot open rng source {path}: {Libc.LastErrorText}");
        Name = path;
        _warn = warn;
    }

    public int Fill(Span<byte> destination)
    {
        int total = 0;
        fixed (byte* p = destination)
        {
            while (total < destination.Length)
            {
                nint n = Libc.read(_fd, p + total, (nuint)(destination.Length - total));
                if (n > 0) { total += (int)n; continue; }
                if (n == 0)
                {
                    if (!_reportedEnd) _warn($"rng source {Name} is exhausted (end of file): guests waiting for entropy will not be served");
                    _reportedEnd = true;
                    break;
                }
                int errno = Libc.LastErrno;
                if (errno == Libc.EINTR) continue;
                if (errno != Libc.EAGAIN) _warn($"reading rng source {Name}: {Libc.ErrnoText(errno)}");
                break;
            }
        }
        return total;
    }

    public void Dispose() => Libc.close(_fd);
}
