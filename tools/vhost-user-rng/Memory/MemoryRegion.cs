// One region of the memory table: a window of the frontend's guest RAM that the backend maps
// from the file descriptor QEMU passed (vhost-user.rst "Memory access").
//
// mmap of a file shorter than offset+size succeeds, and the first touch of a missing page is
// SIGBUS, which no .NET code can catch. So the fd's size is checked before mapping, and so are
// its seals: a file that can still shrink could be truncated under us later.

using System;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;

namespace VhostUserRng.Memory;

public sealed unsafe class MemoryRegion
{
    public ulong GuestPhysAddr { get; }
    public ulong Size { get; }
    public ulong UserspaceAddr { get; }

    /// <summary>Host address of the region's first byte (guest_phys_addr / userspace_addr).</summary>
    public byte* Host { get; }

    private readonly byte* _mapBase;
    private readonly nuint _mapLength;

    private MemoryRegion(in VhostUserMemoryRegion region, byte* mapBase, nuint mapLength, ulong delta)
    {
        GuestPhysAddr = region.GuestPhysAddr;
        Size = region.MemorySize;
        UserspaceAddr = region.UserspaceAddr;
        _mapBase = mapBase;
        _mapLength = mapLength;
        Host = mapBase + delta;
    }

    /// <summary>Last guest physical address inside the region (inclusive: an exclusive end could be 2^64).</summary>
    public ulong GuestLast => GuestPhysAddr + (Size - 1);

    public ulong UserLast => UserspaceAddr + (Size - 1);

    /// <summary>Checks the numbers of one region, without touching its fd.</summary>
    public static void Validate(int index, in VhostUserMemoryRegion r)
    {
        string where = $"VHOST_USER_SET_MEM_TABLE region {index}";
        if (r.MemorySize == 0)
            throw new VhostUserRequestRefusedException($"{where} has size 0");
        if (r.GuestPhysAddr > ulong.MaxValue - (r.MemorySize - 1))
            throw new VhostUserRequestRefusedException($"{where}: guest_phys_addr 0x{r.GuestPhysAddr:x} + memory_size 0x{r.MemorySize:x} wraps past 2^64");
        if (r.UserspaceAddr > ulong.MaxValue - (r.MemorySize - 1))
            throw new VhostUserRequestRefusedException($"{where}: userspace_addr 0x{r.UserspaceAddr:x} + memory_size 0x{r.MemorySize:x} wraps past 2^64");
        if (r.MmapOffset > long.MaxValue || r.MemorySize > (ulong)long.MaxValue - r.MmapOffset)
            throw new VhostUserRequestRefusedException($"{where}: mmap_offset 0x{r.MmapOffset:x} + memory_size 0x{r.MemorySize:x} exceeds the largest file offset");
    }

    /// <summary>Maps a validated region from <paramref name="fd"/> after checking the fd's size and seals.</summary>
    public static MemoryRegion Map(int index, in VhostUserMemoryRegion r, int fd, bool requireSealed, Action<string> warn)
    {
        string where = $"VHOST_USER_SET_MEM_TABLE region {index}";
        long fileSize = FileStatus.SizeOf(fd, out int errno);
        if (fileSize < 0)
            throw new VhostUserRequestRefusedException($"{where}: fstat of its fd failed: {Libc.ErrnoText(errno)}");
        ulong needed = r.MmapOffset + r.MemorySize;   // no overflow: Validate() bounded it by long.MaxValue
        if ((ulong)fileSize < needed)
            throw new VhostUserRequestRefusedException($"{where}: its fd is 0x{fileSize:x} bytes but the region needs mmap_offset 0x{r.MmapOffset:x} + memory_size 0x{r.MemorySize:x} = 0x{needed:x}; mapping it would fault (SIGBUS)");

        int seals = Libc.fcntl(fd, Libc.F_GET_SEALS, 0);
        if (seals < 0 || (seals & Libc.F_SEAL_SHRINK) == 0)
        {
            string problem = $"{where}: its fd is not sealed against shrinking (F_SEAL_SHRINK), so truncating it later would crash this backend with SIGBUS";
            if (requireSealed)
                throw new VhostUserRequestRefusedException(problem + "; use -object memory-backend-memfd (sealed by default) or start the backend with --allow-unsealed-memory");
            warn(problem + " (accepted because of --allow-unsealed-memory)");
        }

        // mmap wants a page-aligned offset; the vhost-user offset need not be one.
        ulong pageMask = (ulong)Environment.SystemPageSize - 1;
        ulong mapOffset = r.MmapOffset & ~pageMask;
        ulong delta = r.MmapOffset - mapOffset;
        ulong mapLength = r.MemorySize + delta;
        if (mapLength > (ulong)nuint.MaxValue)
            throw new VhostUserRequestRefusedException($"{where}: 0x{mapLength:x} bytes do not fit the address space");

        void* p = Libc.mmap(null, (nuint)mapLength, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_NORESERVE, fd, (long)mapOffset);
        if (p == Libc.MAP_FAILED)
            throw new VhostUserRequestRefusedException($"{where}: mmap of 0x{mapLength:x} bytes at offset 0x{mapOffset:x} failed: {Libc.LastErrorText}");
        return new MemoryRegion(r, (byte*)p, (nuint)mapLength, delta);
    }

    public void Unmap() => Libc.munmap(_mapBase, _mapLength);

    public override string ToString() =>
        $"guest 0x{GuestPhysAddr:x}-0x{GuestLast:x} user 0x{UserspaceAddr:x} (0x{Size:x} bytes)";
}
