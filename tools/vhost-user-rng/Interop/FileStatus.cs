// The two fields of struct stat the backend reads. st_size sits at offset 48 on both x86_64
// and arm64 (asm-generic/stat.h); st_mode at 24 on x86_64 and 16 on arm64.

using System.Runtime.InteropServices;

namespace VhostUserRng.Interop;

public static unsafe class FileStatus
{
    private const int StatBufferSize = 256;   // struct stat is 144 bytes on x86_64, 128 on arm64
    private const int StSizeOffset = 48;
    private static readonly int StModeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
    private const uint S_IFMT = 0xF000;
    private const uint S_IFSOCK = 0xC000;

    /// <summary>The size of the file behind <paramref name="fd"/>, or -1 with errno.</summary>
    public static long SizeOf(int fd, out int errno)
    {
        byte* buf = stackalloc byte[StatBufferSize];
        if (Libc.fstat(fd, buf) != 0) { errno = Libc.LastErrno; return -1; }
        errno = 0;
        return *(long*)(buf + StSizeOffset);
    }

    /// <summary>True if <paramref name="path"/> exists and is a socket (not following symlinks).</summary>
    public static bool IsSocket(string path)
    {
        byte* buf = stackalloc byte[StatBufferSize];
        if (Libc.lstat(path, buf) != 0) return false;
        return (*(uint*)(buf + StModeOffset) & S_IFMT) == S_IFSOCK;
    }
}
