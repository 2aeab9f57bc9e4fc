// A sealed memfd as guest RAM, mapped through the backend's own GuestMemory, with one split
// ring laid out in it: what a session holds once QEMU's DRIVER_OK sequence is through.

using System;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Protocol;

namespace VhostUserRng.Benchmarks;

public sealed unsafe class GuestFixture : IDisposable
{
    public const ulong RamSize = 1 << 20;
    public const ulong UserBase = 0x7f00_0000_0000;
    public const ulong DescGpa = 0x1000, AvailGpa = 0x3000, UsedGpa = 0x4000;

    public int MemFd { get; }
    public byte* Host { get; }
    public VhostUserMemoryRegion[] Table { get; }
    public GuestMemory Memory { get; }

    public GuestFixture()
    {
        MemFd = Libc.memfd_create("bench-ram", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        Libc.ftruncate(MemFd, (long)RamSize);
        Libc.fcntl(MemFd, Libc.F_ADD_SEALS, Libc.F_SEAL_GROW | Libc.F_SEAL_SHRINK);
        Host = (byte*)Libc.mmap(null, (nuint)RamSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, MemFd, 0);
        Table = new[] { new VhostUserMemoryRegion(0, RamSize, UserBase, 0) };
        var fds = new FdList();
        fds.Add(MemFd);
        Memory = GuestMemory.Map(Table, fds, requireSealed: true, _ => { });
    }

    public void WriteDesc(ulong gpa, ulong addr, uint len, ushort flags, ushort next)
    {
        *(ulong*)(Host + gpa) = addr;
        *(uint*)(Host + gpa + 8) = len;
        *(ushort*)(Host + gpa + 12) = flags;
        *(ushort*)(Host + gpa + 14) = next;
    }

    public void Dispose()
    {
        Memory.Dispose();
        Libc.munmap(Host, (nuint)RamSize);
        Libc.close(MemFd);
    }
}
