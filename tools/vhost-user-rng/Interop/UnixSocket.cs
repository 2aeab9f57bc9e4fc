// AF_UNIX stream sockets with SCM_RIGHTS, the transport of vhost-user.

using System;
using System.Text;

namespace VhostUserRng.Interop;

public static unsafe class UnixSocket
{
    private static readonly int CmsgHeaderSize = Align(sizeof(Libc.cmsghdr));   // CMSG_ALIGN(sizeof(struct cmsghdr))

    private static int Align(int n) => (n + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    private static int CmsgSpace(int dataBytes) => CmsgHeaderSize + Align(dataBytes);

    private static void FillAddress(string path, Libc.sockaddr_un* addr, out uint length)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= Libc.SUN_PATH_LENGTH)
            throw new ArgumentException($"socket path '{path}' is longer than {Libc.SUN_PATH_LENGTH - 1} bytes");
        *addr = default;
        addr->sun_family = Libc.AF_UNIX;
        for (int i = 0; i < bytes.Length; i++) addr->sun_path[i] = bytes[i];
        length = (uint)(sizeof(ushort) + bytes.Length + 1);
    }

    private static int NewSocket()
    {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new InvalidOperationException($"socket: {Libc.LastErrorText}");
        return fd;
    }

    /// <summary>Binds and listens on <paramref name="path"/>. A stale socket file left by a dead
    /// process is replaced; a live one, or a file that is not a socket, is an error.</summary>
    public static int Listen(string path)
    {
        int fd = NewSocket();
        Libc.sockaddr_un addr;
        FillAddress(path, &addr, out uint length);
        if (Libc.bind(fd, &addr, length) != 0)
        {
            int errno = Libc.LastErrno;
            bool stale = errno == Libc.EADDRINUSE && FileStatus.IsSocket(path) && !IsAlive(path);
            if (!stale || Libc.unlink(path) != 0 || Libc.bind(fd, &addr, length) != 0)
            {
                Libc.close(fd);
                string why = errno == Libc.EADDRINUSE
                    ? (FileStatus.IsSocket(path) ? "another process is listening on it" : "a file that is not a socket is in the way")
                    : Libc.ErrnoText(errno);
                throw new InvalidOperationException($"cannot listen on {path}: {why}");
            }
        }
        if (Libc.listen(fd, 1) != 0)
        {
            string error = Libc.LastErrorText;
            Libc.close(fd);
            throw new InvalidOperationException($"listen on {path}: {error}");
        }
        return fd;
    }

    private static bool IsAlive(string path)
    {
        int fd = TryConnect(path, out _);
        Libc.CloseIfValid(fd);
        return fd >= 0;
    }

    /// <summary>Connects to <paramref name="path"/>; returns the socket (non-blocking) or -1 with errno.</summary>
    public static int TryConnect(string path, out int errno)
    {
        int fd = NewSocket();
        Libc.sockaddr_un addr;
        FillAddress(path, &addr, out uint length);
        if (Libc.connect(fd, &addr, length) == 0) { errno = 0; return fd; }
        errno = Libc.LastErrno;
        Libc.close(fd);
        return -1;
    }

    /// <summary>Accepts one pending connection (non-blocking, close-on-exec) or returns -1 with errno.</summary>
    public static int Accept(int listenFd, out int errno)
    {
        int fd = Libc.accept4(listenFd, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
        errno = fd < 0 ? Libc.LastErrno : 0;
        return fd;
    }

    /// <summary>True if <paramref name="fd"/> is a listening socket (SO_ACCEPTCONN), as opposed to a connected one.</summary>
    public static bool IsListening(int fd)
    {
        int value = 0;
        uint len = sizeof(int);
        return Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN, &value, &len) == 0 && value != 0;
    }

    public static void SetNonBlocking(int fd)
    {
        int flags = Libc.fcntl(fd, Libc.F_GETFL, 0);
        if (flags < 0 || Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0)
            throw new InvalidOperationException($"fcntl(O_NONBLOCK) on fd {fd}: {Libc.LastErrorText}");
    }

    /// <summary>
    /// recvmsg(2) of at most <paramref name="buffer"/>.Length bytes. Descriptors attached to these
    /// bytes are appended to <paramref name="fds"/> (close-on-exec). Returns the byte count,
    /// 0 at end of stream, or -errno. Reading exactly the bytes of one message at a time keeps
    /// descriptors with the message they were sent with.
    /// </summary>
    public static int Receive(int fd, Span<byte> buffer, FdList fds)
    {
        int controlSize = CmsgSpace(FdList.Capacity * sizeof(int));
        byte* control = stackalloc byte[controlSize];
        fixed (byte* data = buffer)
        {
            Libc.iovec iov = new() { iov_base = data, iov_len = (nuint)buffer.Length };
            Libc.msghdr msg = new()
            {
                msg_iov = &iov,
                msg_iovlen = 1,
                msg_control = control,
                msg_controllen = (nuint)controlSize,
            };
            nint n;
            do n = Libc.recvmsg(fd, &msg, Libc.MSG_CMSG_CLOEXEC | Libc.MSG_DONTWAIT);
            while (n < 0 && Libc.LastErrno == Libc.EINTR);
            if (n < 0) return -Libc.LastErrno;

            // Walk the control messages (CMSG_FIRSTHDR / CMSG_NXTHDR).
            byte* end = control + (int)msg.msg_controllen;
            for (byte* p = control; p + sizeof(Libc.cmsghdr) <= end;)
            {
                var header = (Libc.cmsghdr*)p;
                int length = (int)header->cmsg_len;
                if (length < CmsgHeaderSize || p + length > end) break;
                if (header->cmsg_level == Libc.SOL_SOCKET && header->cmsg_type == Libc.SCM_RIGHTS)
                {
                    int count = (length - CmsgHeaderSize) / sizeof(int);
                    for (int i = 0; i < count; i++) fds.Add(((int*)(p + CmsgHeaderSize))[i]);
                }
                p += Align(length);
            }
            if ((msg.msg_flags & Libc.MSG_CTRUNC) != 0) fds.MarkOverflowed();
            return (int)n;
        }
    }

    /// <summary>sendmsg(2) of <paramref name="data"/> with optional descriptors, never raising SIGPIPE.
    /// Returns the byte count or -errno.</summary>
    public static int Send(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<int> fdsToSend = default, bool dontWait = true)
    {
        int controlSize = fdsToSend.Length == 0 ? 0 : CmsgSpace(fdsToSend.Length * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlSize, 1)];
        fixed (byte* p = data)
        {
            Libc.iovec iov = new() { iov_base = p, iov_len = (nuint)data.Length };
            Libc.msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1 };
            if (controlSize > 0)
            {
                new Span<byte>(control, controlSize).Clear();
                var header = (Libc.cmsghdr*)control;
                header->cmsg_len = (nuint)(CmsgHeaderSize + fdsToSend.Length * sizeof(int));
                header->cmsg_level = Libc.SOL_SOCKET;
                header->cmsg_type = Libc.SCM_RIGHTS;
                for (int i = 0; i < fdsToSend.Length; i++) ((int*)(control + CmsgHeaderSize))[i] = fdsToSend[i];
                msg.msg_control = control;
                msg.msg_controllen = (nuint)controlSize;
            }
            nint n;
            do n = Libc.sendmsg(fd, &msg, Libc.MSG_NOSIGNAL | (dontWait ? Libc.MSG_DONTWAIT : 0));
            while (n < 0 && Libc.LastErrno == Libc.EINTR);
            return n < 0 ? -Libc.LastErrno : (int)n;
        }
    }
}
