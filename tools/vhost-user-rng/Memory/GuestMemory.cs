// The memory table of one connection, and the two translations the backend needs
// (vhost-user.rst "Memory access"):
//   - user addresses (the frontend's virtual addresses) for the rings of SET_VRING_ADDR;
//   - guest physical addresses for everything the guest writes into descriptors.
// All arithmetic is done on inclusive "last byte" bounds so that nothing wraps at 2^64.

using System;
using System.Collections.Generic;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;

namespace VhostUserRng.Memory;

public sealed unsafe class GuestMemory : IDisposable
{
    private readonly MemoryRegion[] _regions;   // sorted by guest physical address
    private int _lastHit;                        // consecutive lookups usually hit the same region
    private bool _disposed;

    private GuestMemory(MemoryRegion[] regions) => _regions = regions;

    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>
    /// Validates the table of SET_MEM_TABLE (numbers, overlaps, one fd per region, each fd's size
    /// and seals) and maps it. On any refusal nothing stays mapped; the caller's fds are not closed.
    /// </summary>
    public static GuestMemory Map(VhostUserMemoryRegion[] table, FdList fds, bool requireSealed, Action<string> warn)
    {
        if (fds.Count != table.Length)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_MEM_TABLE describes {table.Length} regions but carries {fds.Count} file descriptors");
        for (int i = 0; i < table.Length; i++) MemoryRegion.Validate(i, table[i]);
        RefuseOverlaps(table, r => r.GuestPhysAddr, "guest_phys_addr");
        RefuseOverlaps(table, r => r.UserspaceAddr, "userspace_addr");

        var mapped = new List<MemoryRegion>(table.Length);
        try
        {
            for (int i = 0; i < table.Length; i++) mapped.Add(MemoryRegion.Map(i, table[i], fds[i], requireSealed, warn));
        }
        catch
        {
            foreach (var region in mapped) region.Unmap();
            throw;
        }
        mapped.Sort((a, b) => a.GuestPhysAddr.CompareTo(b.GuestPhysAddr));
        return new GuestMemory(mapped.ToArray());
    }

    private static void RefuseOverlaps(VhostUserMemoryRegion[] table, Func<VhostUserMemoryRegion, ulong> start, string field)
    {
        for (int i = 0; i < table.Length; i++)
            for (int j = i + 1; j < table.Length; j++)
            {
                ulong a = start(table[i]), aLast = a + (table[i].MemorySize - 1);
                ulong b = start(table[j]), bLast = b + (table[j].MemorySize - 1);
                if (a <= bLast && b <= aLast)
                    throw new VhostUserRequestRefusedException($"VHOST_USER_SET_MEM_TABLE regions {i} and {j} overlap in {field} (0x{a:x}-0x{aLast:x} and 0x{b:x}-0x{bLast:x})");
            }
    }

    /// <summary>Host address of [userAddr, userAddr+length) if it lies inside one region, else null.
    /// The rings must: a ring split across two mappings could not be addressed as one array.</summary>
    public byte* TranslateUser(ulong userAddr, ulong length)
    {
        if (length == 0) return null;
        foreach (var r in _regions)
        {
            if (userAddr < r.UserspaceAddr) continue;
            ulong offset = userAddr - r.UserspaceAddr;
            if (offset > r.Size - 1 || length - 1 > r.Size - 1 - offset) continue;
            return r.Host + offset;
        }
        return null;
    }

    /// <summary>
    /// Host address of guest physical address <paramref name="gpa"/> and how many of the next
    /// <paramref name="length"/> bytes are contiguous in that region (a buffer may continue in the
    /// adjacent region: call again at gpa + contiguous). Null if <paramref name="gpa"/> is not RAM.
    /// </summary>
    public byte* TranslateGuest(ulong gpa, ulong length, out ulong contiguous)
    {
        var regions = _regions;
        int i = _lastHit;
        if (i >= regions.Length || !Contains(regions[i], gpa))
        {
            for (i = 0; i < regions.Length && !Contains(regions[i], gpa); i++) { }
            if (i == regions.Length) { contiguous = 0; return null; }
            _lastHit = i;
        }
        var r = regions[i];
        ulong offset = gpa - r.GuestPhysAddr;
        contiguous = Math.Min(length, r.Size - offset);
        return r.Host + offset;
    }

    private static bool Contains(MemoryRegion r, ulong gpa) => gpa >= r.GuestPhysAddr && gpa - r.GuestPhysAddr <= r.Size - 1;

    /// <summary>True if every byte of [gpa, gpa+length) is guest RAM (possibly across adjacent
    /// regions) and the range does not wrap past 2^64.</summary>
    public bool ContainsGuestRange(ulong gpa, ulong length)
    {
        if (length == 0) return true;
        if (gpa > ulong.MaxValue - (length - 1)) return false;
        while (true)
        {
            if (TranslateGuest(gpa, length, out ulong run) == null) return false;
            if (run == length) return true;
            gpa += run;
            length -= run;
        }
    }

    /// <summary>Copies guest bytes at <paramref name="gpa"/> into <paramref name="destination"/>
    /// (used for indirect descriptor tables, which may cross regions). False if not all is RAM.</summary>
    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (!ContainsGuestRange(gpa, (ulong)destination.Length)) return false;
        while (!destination.IsEmpty)
        {
            byte* host = TranslateGuest(gpa, (ulong)destination.Length, out ulong run);
            new ReadOnlySpan<byte>(host, (int)run).CopyTo(destination);
            destination = destination[(int)run..];
            gpa += run;
        }
        return true;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var r in _regions) r.Unmap();
    }
}
