// The few libc calls the backend needs, declared with LibraryImport (source-generated, so
// NativeAOT needs no runtime marshalling). System.Net.Sockets cannot pass file descriptors
// (SCM_RIGHTS), and vhost-user is built on passing them, hence this layer.
//
// Constants are Linux's. Where x86_64 and arm64 differ (struct epoll_event, struct stat) the
// wrappers in this folder pick the layout at run time; every constant below is the same on both.

using System.Runtime.InteropServices;

#pragma warning disable CS8981   // the structs keep their C names (iovec, msghdr...) on purpose

namespace VhostUserRng.Interop;

public static unsafe partial class Libc
{
    private const string Lib = "libc";

    // errno values (asm-generic/errno-base.h, errno.h; identical on x86_64 and arm64).
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EADDRINUSE = 98;
    public const int ECONNRESET = 104;

    // socket(2), sendmsg(2), recvmsg(2)
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_ACCEPTCONN = 30;
    public const int SCM_RIGHTS = 1;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    // open(2), fcntl(2)
    public const int O_RDONLY = 0;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;
    public const int F_SEAL_SEAL = 0x1;
    public const int F_SEAL_SHRINK = 0x2;
    public const int F_SEAL_GROW = 0x4;

    // mmap(2)
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x1;
    public const int MAP_NORESERVE = 0x4000;
    public static readonly void* MAP_FAILED = (void*)-1;

    // eventfd(2), epoll(7), memfd_create(2), poll(2)
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const uint MFD_CLOEXEC = 0x1;
    public const uint MFD_ALLOW_SEALING = 0x2;
    public const short POLLIN = 0x001;

    // Signals
    public const int SIGINT = 2;
    public const int SIGPIPE = 13;
    public const int SIGTERM = 15;
    public static readonly nint SIG_IGN = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
        // followed by the data, aligned to sizeof(size_t)
    }

    public const int SUN_PATH_LENGTH = 108;

    [StructLayout(LayoutKind.Sequential)]
    public struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[SUN_PATH_LENGTH];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    public static int LastErrno => Marshal.GetLastPInvokeError();

    public static string ErrnoText(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    public static string LastErrorText => ErrnoText(LastErrno);

    [LibraryImport(Lib, SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport(Lib, SetLastError = true)] public static partial int bind(int fd, sockaddr_un* addr, uint addrlen);
    [LibraryImport(Lib, SetLastError = true)] public static partial int listen(int fd, int backlog);
    [LibraryImport(Lib, SetLastError = true)] public static partial int accept4(int fd, void* addr, uint* addrlen, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int connect(int fd, sockaddr_un* addr, uint addrlen);
    [LibraryImport(Lib, SetLastError = true)] public static partial int getsockopt(int fd, int level, int name, void* value, uint* len);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint recvmsg(int fd, msghdr* msg, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint sendmsg(int fd, msghdr* msg, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);
    [LibraryImport(Lib, SetLastError = true)] public static partial int munmap(void* addr, nuint length);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fcntl(int fd, int cmd, int arg);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fstat(int fd, void* statbuf);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int lstat(string path, void* statbuf);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int open(string path, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int unlink(string path);
    [LibraryImport(Lib, SetLastError = true)] public static partial int eventfd(uint initval, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int epoll_ctl(int epfd, int op, int fd, void* ev);
    [LibraryImport(Lib, SetLastError = true)] public static partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);
    [LibraryImport(Lib, SetLastError = true)] public static partial int poll(pollfd* fds, nuint nfds, int timeout);
    [LibraryImport(Lib)] public static partial int sched_yield();
    [LibraryImport(Lib, SetLastError = true)] public static partial nint read(int fd, void* buf, nuint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint write(int fd, void* buf, nuint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial int close(int fd);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int memfd_create(string name, uint flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int ftruncate(int fd, long length);
    [LibraryImport(Lib, SetLastError = true)] public static partial int kill(int pid, int sig);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint signal(int signum, nint handler);

    /// <summary>close(2) that ignores invalid descriptors, for cleanup paths.</summary>
    public static void CloseIfValid(int fd)
    {
        if (fd >= 0) close(fd);
    }
}
