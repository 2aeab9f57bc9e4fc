// libc calls only the tests need.

using System.Runtime.InteropServices;

namespace VhostUser.Tests.Frontend;

public static unsafe partial class TestLibc
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    public const int O_CLOEXEC = 0x80000;

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw new System.InvalidOperationException("pipe2 failed");
        return (fds[0], fds[1]);
    }

    /// <summary>Open descriptors of this process (for leak checks).</summary>
    public static int OpenFdCount() => System.IO.Directory.GetFiles("/proc/self/fd").Length;
}
