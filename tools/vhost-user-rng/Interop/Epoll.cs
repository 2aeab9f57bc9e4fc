// epoll(7) with the two layouts of struct epoll_event: the kernel declares it
// __attribute__((packed)) on x86_64 only, so it is 12 bytes there ({u32 events; u64 data}
// with data at offset 4) and 16 bytes on arm64 (data at offset 8).

using System;
using System.Runtime.InteropServices;

namespace VhostUserRng.Interop;

public sealed unsafe class Epoll : IDisposable
{
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = EventSize == 12 ? 4 : 8;

    private readonly int _fd;
    private readonly byte[] _events;
    private bool _disposed;

    public Epoll(int maxEventsPerWait = 64)
    {
        _fd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_fd < 0) throw new InvalidOperationException($"epoll_create1: {Libc.LastErrorText}");
        _events = new byte[maxEventsPerWait * EventSize];
    }

    /// <summary>Watches <paramref name="fd"/> for input (level-triggered); returns errno or 0.</summary>
    public int Add(int fd, ulong token)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = Libc.EPOLLIN;
        *(ulong*)(ev + DataOffset) = token;
        return Libc.epoll_ctl(_fd, Libc.EPOLL_CTL_ADD, fd, ev) == 0 ? 0 : Libc.LastErrno;
    }

    public void Remove(int fd)
    {
        byte* ev = stackalloc byte[16];   // ignored by the kernel, but must be non-null before Linux 2.6.9
        Libc.epoll_ctl(_fd, Libc.EPOLL_CTL_DEL, fd, ev);
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (-1 = forever); returns the number of events (0 on EINTR).</summary>
    public int Wait(int timeoutMs)
    {
        fixed (byte* p = _events)
        {
            int n = Libc.epoll_wait(_fd, p, _events.Length / EventSize, timeoutMs);
            if (n >= 0) return n;
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR) return 0;
            throw new InvalidOperationException($"epoll_wait: {Libc.ErrnoText(errno)}");
        }
    }

    public uint EventsAt(int i) => MemoryMarshal.Read<uint>(_events.AsSpan(i * EventSize));

    public ulong TokenAt(int i) => MemoryMarshal.Read<ulong>(_events.AsSpan(i * EventSize + DataOffset));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Libc.close(_fd);
    }
}
