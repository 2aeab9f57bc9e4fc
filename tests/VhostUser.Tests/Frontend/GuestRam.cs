// Guest RAM as QEMU provides it to a vhost-user backend: a memfd (sealed against growing and
// shrinking, like -object memory-backend-memfd), mapped here so the test can play the guest,
// and described by a memory table whose regions may share the fd (x86's hole at 0xC0000).

using System;
using System.Collections.Generic;
using System.Threading;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;

namespace VhostUser.Tests.Frontend;

public sealed unsafe class GuestRam : IDisposable
{
    /// <summary>Where "QEMU" pretends to have mapped the memfd: user addresses are this plus the file offset.</summary>
    public const ulong QemuMappingBase = 0x7f12_3400_0000;

    public int Fd { get; }
    public ulong FileSize { get; }
    public byte* Host { get; }
    public VhostUserMemoryRegion[] Regions { get; }

    private GuestRam(int fd, ulong fileSize, byte* host, VhostUserMemoryRegion[] regions)
    {
        Fd = fd;
        FileSize = fileSize;
        Host = host;
        Regions = regions;
    }

    /// <summary>One region: guest physical 0 .. size, file offset 0.</summary>
    public static GuestRam Create(ulong size = 1 << 20, bool sealed_ = true) =>
        Create(size, sealed_, (0, size, 0));

    /// <summary>Regions given as (guest physical address, size, file offset) into one memfd of <paramref name="fileSize"/> bytes.</summary>
    public static GuestRam Create(ulong fileSize, bool sealed_, params (ulong Gpa, ulong Size, ulong Offset)[] regions)
    {
        int fd = Libc.memfd_create("guest-ram", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (fd < 0) throw new InvalidOperationException($"memfd_create: {Libc.LastErrorText}");
        if (Libc.ftruncate(fd, (long)fileSize) != 0) throw new InvalidOperationException($"ftruncate: {Libc.LastErrorText}");
        if (sealed_ && Libc.fcntl(fd, Libc.F_ADD_SEALS, Libc.F_SEAL_GROW | Libc.F_SEAL_SHRINK | Libc.F_SEAL_SEAL) != 0)
            throw new InvalidOperationException($"F_ADD_SEALS: {Libc.LastErrorText}");
        void* p = Libc.mmap(null, (nuint)fileSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        if (p == Libc.MAP_FAILED) throw new InvalidOperationException($"mmap: {Libc.LastErrorText}");
        var table = new VhostUserMemoryRegion[regions.Length];
        for (int i = 0; i < regions.Length; i++)
            table[i] = new VhostUserMemoryRegion(regions[i].Gpa, regions[i].Size, QemuMappingBase + regions[i].Offset, regions[i].Offset);
        return new GuestRam(fd, fileSize, (byte*)p, table);
    }

    /// <summary>Test-side address of guest physical <paramref name="gpa"/> (must be RAM).</summary>
    public byte* HostOf(ulong gpa)
    {
        foreach (var r in Regions)
            if (gpa >= r.GuestPhysAddr && gpa - r.GuestPhysAddr < r.MemorySize)
                return Host + r.MmapOffset + (gpa - r.GuestPhysAddr);
        throw new ArgumentOutOfRangeException(nameof(gpa), $"0x{gpa:x} is not guest RAM");
    }

    /// <summary>The frontend's user address of guest physical <paramref name="gpa"/>.</summary>
    public ulong UserAddrOf(ulong gpa)
    {
        foreach (var r in Regions)
            if (gpa >= r.GuestPhysAddr && gpa - r.GuestPhysAddr < r.MemorySize)
                return r.UserspaceAddr + (gpa - r.GuestPhysAddr);
        throw new ArgumentOutOfRangeException(nameof(gpa), $"0x{gpa:x} is not guest RAM");
    }

    /// <summary>Reads guest bytes, following the guest physical layout across regions.</summary>
    public byte[] Read(ulong gpa, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = *HostOf(gpa + (ulong)i);
        return bytes;
    }

    public void Write(ulong gpa, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++) *HostOf(gpa + (ulong)i) = bytes[i];
    }

    public void Fill(ulong gpa, int length, byte value)
    {
        for (int i = 0; i < length; i++) *HostOf(gpa + (ulong)i) = value;
    }

    /// <summary>The raw file bytes (to check what landed where, regions aside).</summary>
    public ReadOnlySpan<byte> File => new(Host, (int)FileSize);

    public ushort ReadU16(ulong gpa) => Volatile.Read(ref *(ushort*)HostOf(gpa));
    public void WriteU16(ulong gpa, ushort value) => Volatile.Write(ref *(ushort*)HostOf(gpa), value);
    public uint ReadU32(ulong gpa) => Volatile.Read(ref *(uint*)HostOf(gpa));
    public void WriteU32(ulong gpa, uint value) => Volatile.Write(ref *(uint*)HostOf(gpa), value);
    public void WriteU64(ulong gpa, ulong value) => Volatile.Write(ref *(ulong*)HostOf(gpa), value);

    public IEnumerable<VhostUserMemoryRegion> Table => Regions;

    public void Dispose()
    {
        Libc.munmap(Host, (nuint)FileSize);
        Libc.close(Fd);
    }
}
