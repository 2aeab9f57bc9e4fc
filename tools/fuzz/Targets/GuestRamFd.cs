// Guest RAM as QEMU's memory-backend-memfd hands it to a backend: a memfd of a fixed size,
// sealed against growing and shrinking unless asked otherwise (the backend refuses unsealed
// memory by default).

using System;
using VhostUserRng.Interop;

namespace VhostUserRng.Fuzz;

internal static class GuestRamFd
{
    public static int Create(long size, bool sealed_ = true)
    {
        int fd = Libc.memfd_create("fuzz-guest-ram", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (fd < 0 || Libc.ftruncate(fd, size) != 0
            || (sealed_ && Libc.fcntl(fd, Libc.F_ADD_SEALS, Libc.F_SEAL_GROW | Libc.F_SEAL_SHRINK | Libc.F_SEAL_SEAL) != 0))
            throw new InvalidOperationException($"memfd of {size} bytes: {Libc.LastErrorText}");
        return fd;
    }
}
