// The guest's half of a split virtqueue (virtio 1.2, 2.7), written by hand so that tests can
// also write what a correct driver never would. Layout: descriptor table, available ring and
// used ring at the guest physical addresses given.

using System.Threading;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;

namespace VhostUser.Tests.Frontend;

public sealed class GuestDriver
{
    private readonly GuestRam _ram;

    public ulong DescGpa { get; }
    public ulong AvailGpa { get; }
    public ulong UsedGpa { get; }
    public ushort Num { get; }

    /// <summary>The driver's avail->idx (what it has published).</summary>
    public ushort AvailIdx { get; private set; }

    public GuestDriver(GuestRam ram, ushort num = 4, ulong descGpa = 0x1000, ulong availGpa = 0x2000, ulong usedGpa = 0x3000)
    {
        _ram = ram;
        Num = num;
        DescGpa = descGpa;
        AvailGpa = availGpa;
        UsedGpa = usedGpa;
    }

    /// <summary>SET_VRING_ADDR's payload: the rings' user (QEMU virtual) addresses.</summary>
    public VhostVringAddr Addr(uint index = 0) =>
        new(index, 0, _ram.UserAddrOf(DescGpa), _ram.UserAddrOf(UsedGpa), _ram.UserAddrOf(AvailGpa), 0);

    public void WriteDesc(int i, ulong addr, uint len, ushort flags = VirtqDesc.VIRTQ_DESC_F_WRITE, ushort next = 0) =>
        WriteDescAt(DescGpa + 16UL * (ulong)i, addr, len, flags, next);

    /// <summary>Writes a descriptor anywhere (an indirect table entry, say).</summary>
    public void WriteDescAt(ulong gpa, ulong addr, uint len, ushort flags, ushort next)
    {
        _ram.WriteU64(gpa, addr);
        _ram.WriteU32(gpa + 8, len);
        _ram.WriteU16(gpa + 12, flags);
        _ram.WriteU16(gpa + 14, next);
    }

    /// <summary>Puts heads into avail->ring and publishes them (release-store of avail->idx).</summary>
    public void Publish(params ushort[] heads)
    {
        foreach (ushort head in heads)
        {
            _ram.WriteU16(AvailGpa + 4 + 2UL * (ulong)(AvailIdx % Num), head);
            AvailIdx++;
        }
        _ram.WriteU16(AvailGpa + 2, AvailIdx);
    }

    /// <summary>Writes avail->idx without ring entries (for hostile tests).</summary>
    public void SetAvailIdx(ushort idx)
    {
        AvailIdx = idx;
        _ram.WriteU16(AvailGpa + 2, idx);
    }

    /// <summary>Sets where this driver's avail index starts (with SET_VRING_BASE and used->idx).</summary>
    public void StartAt(ushort idx)
    {
        AvailIdx = idx;
        _ram.WriteU16(AvailGpa + 2, idx);
        _ram.WriteU16(UsedGpa + 2, idx);
    }

    public void WriteAvailEntry(int slot, ushort head) => _ram.WriteU16(AvailGpa + 4 + 2UL * (ulong)slot, head);

    public ushort UsedIdx => _ram.ReadU16(UsedGpa + 2);

    public (uint Id, uint Len) UsedElem(int i)
    {
        ulong at = UsedGpa + 4 + 8UL * (ulong)((ushort)i % Num);   // ring positions are 16-bit, modulo the size
        return (_ram.ReadU32(at), _ram.ReadU32(at + 4));
    }

    /// <summary>used->flags: VIRTQ_USED_F_NO_NOTIFY asks the driver not to kick (without EVENT_IDX).</summary>
    public ushort UsedFlags => _ram.ReadU16(UsedGpa);

    /// <summary>used->ring[num]: the device's avail_event.</summary>
    public ushort AvailEvent => _ram.ReadU16(UsedGpa + 4 + 8UL * Num);

    /// <summary>avail->ring[num]: the driver's used_event.</summary>
    public void SetUsedEvent(ushort value) => _ram.WriteU16(AvailGpa + 4 + 2UL * Num, value);

    public void SetAvailFlags(ushort flags) => _ram.WriteU16(AvailGpa, flags);

    /// <summary>Spins until used->idx reaches <paramref name="idx"/>; false after the timeout.</summary>
    public bool WaitForUsedIdx(ushort idx, int timeoutMs = 5000)
    {
        return Wait.Until(() => UsedIdx == idx, timeoutMs);
    }
}
