// File descriptors that arrived with one message (SCM_RIGHTS). The list owns them: whatever a
// handler does not Take() is closed when the message is done, so no error path leaks an fd.

namespace VhostUserRng.Interop;

public sealed class FdList
{
    /// <summary>More than any vhost-user message carries (SET_MEM_TABLE: at most 8), so a
    /// frontend that sends too many is told so instead of having them silently truncated.</summary>
    public const int Capacity = 16;

    private readonly int[] _fds = new int[Capacity];

    public int Count { get; private set; }

    /// <summary>Set when more descriptors arrived than <see cref="Capacity"/>; the extra ones were closed.</summary>
    public bool Overflowed { get; private set; }

    public int this[int index] => _fds[index];

    public void Add(int fd)
    {
        if (Count == Capacity) { Libc.close(fd); Overflowed = true; return; }
        _fds[Count++] = fd;
    }

    public void MarkOverflowed() => Overflowed = true;

    /// <summary>Transfers ownership of one descriptor to the caller.</summary>
    public int Take(int index)
    {
        int fd = _fds[index];
        _fds[index] = -1;
        return fd;
    }

    public void CloseAll()
    {
        for (int i = 0; i < Count; i++) Libc.CloseIfValid(_fds[i]);
        Count = 0;
        Overflowed = false;
    }
}
