// The device side of a split virtqueue (virtio 1.2, 2.7 "Split Virtqueues").
//
// Memory ordering (the guest runs on other CPUs; arm64 reorders freely):
//   - avail->idx is read with acquire semantics before the ring entries it covers (2.7.13);
//   - used elements are written before used->idx is published with release semantics;
//   - a full fence separates publishing used->idx (or avail_event) from reading the guest's
//     suppression state (used_event, avail->flags, avail->idx), or a notification is lost.
// Every value the guest controls is validated before use and read once.

using System;
using System.Threading;
using VhostUserRng.Memory;

namespace VhostUserRng.Virtio;

public sealed unsafe class SplitRing
{
    // Sizes and alignments of 2.7 ("Split Virtqueues", the table of part sizes).
    public const ulong DescAlign = 16, AvailAlign = 2, UsedAlign = 4;
    public static ulong DescTableSize(uint num) => 16UL * num;
    public static ulong AvailRingSize(uint num) => 6 + 2UL * num;    // flags, idx, ring[num], used_event
    public static ulong UsedRingSize(uint num) => 6 + 8UL * num;     // flags, idx, ring[num], avail_event

    /// <summary>Largest split queue size (2.7: "Queue Size ... maximum 32768"); also bounds an
    /// indirect table.</summary>
    public const uint MaxQueueSize = 32768;

    public const ushort VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
    public const ushort VIRTQ_USED_F_NO_NOTIFY = 1;

    private readonly GuestMemory _memory;
    private readonly byte* _desc;
    private readonly byte* _avail;
    private readonly byte* _used;
    private readonly ushort _mask;
    private readonly bool _eventIdx;
    private readonly bool _indirect;
    private ushort _availIdxSeen;
    private ushort _signalledUsed;
    private bool _signalledUsedValid;

    public uint Num { get; }

    /// <summary>Index of the next avail->ring entry to consume (vhost's last_avail_idx).</summary>
    public ushort NextAvail { get; private set; }

    /// <summary>Value used->idx has (or will have once published).</summary>
    public ushort NextUsed { get; private set; }

    /// <summary>Until when (monotonic ns) the device polls this ring with kicks off, rather
    /// than asking for a kick (RngDevice's busy polling); kept here because it belongs to the
    /// ring and is forgotten with it.</summary>
    public long PollUntilNs { get; set; }

    /// <summary>Where a descriptor was read from: entry <see cref="Index"/> of the descriptor
    /// table, or of the indirect table that descriptor <see cref="IndirectTableOf"/> points to
    /// (-1 for the descriptor table itself), in the chain starting at <see cref="Head"/>.</summary>
    public readonly record struct DescriptorRead(ushort Head, int IndirectTableOf, ushort Index);

    /// <summary>Called right after each descriptor is copied out of guest memory; null in the
    /// backend. It is where a test plays the guest that rewrites a descriptor between the
    /// device's read and its use, the race that reading each descriptor once defeats, and
    /// counts the reads.</summary>
    public Action<DescriptorRead>? AfterDescriptorRead { get; init; }

    public SplitRing(GuestMemory memory, byte* desc, byte* avail, byte* used, uint num,
                     ushort nextAvail, ushort nextUsed, bool eventIdx, bool indirect)
    {
        if (num == 0 || num > MaxQueueSize || (num & (num - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(num), num, "queue size must be a power of 2 up to 32768");
        _memory = memory;
        _desc = desc;
        _avail = avail;
        _used = used;
        Num = num;
        _mask = (ushort)(num - 1);
        _eventIdx = eventIdx;
        _indirect = indirect;
        NextAvail = nextAvail;
        _availIdxSeen = nextAvail;
        NextUsed = nextUsed;
    }

    private ref ushort AvailFlags => ref *(ushort*)_avail;
    private ref ushort UsedFlags => ref *(ushort*)_used;
    private ref ushort AvailIdx => ref *(ushort*)(_avail + 2);
    private ref ushort AvailRing(int i) => ref *(ushort*)(_avail + 4 + 2 * i);
    private ref ushort UsedEvent => ref *(ushort*)(_avail + 4 + 2 * Num);          // avail->ring[num]
    private ref ushort UsedIdx => ref *(ushort*)(_used + 2);
    private ref ushort AvailEvent => ref *(ushort*)(_used + 4 + 8 * Num);          // used->ring[num]

    /// <summary>Reads avail->idx (acquire). A driver can be at most a whole ring ahead (2.7.6).</summary>
    private ushort ReadAvailIdx()
    {
        ushort idx = Volatile.Read(ref AvailIdx);
        if ((ushort)(idx - NextAvail) > Num)
            throw new VirtqueueException($"avail->idx jumped to {idx} with next avail {NextAvail}: {(ushort)(idx - NextAvail)} new entries in a queue of size {Num}");
        _availIdxSeen = idx;
        return idx;
    }

    /// <summary>True if the driver has made a buffer available that we have not consumed.</summary>
    public bool HasAvailable()
    {
        if (_availIdxSeen != NextAvail) return true;
        return ReadAvailIdx() != NextAvail;
    }

    /// <summary>Looks for a new available buffer up to <paramref name="looks"/> times, pausing
    /// between looks (a bounded busy-wait: it never depends on a clock).</summary>
    public bool SpinForAvailable(int looks)
    {
        for (int i = 0; i < looks; i++)
        {
            if (HasAvailable()) return true;
            Thread.SpinWait(1);
        }
        return false;
    }

    /// <summary>The head of the next available chain, validated (2.7.6: ring entries are descriptor indexes).</summary>
    public ushort PeekHead()
    {
        ushort head = AvailRing(NextAvail & _mask);
        if (head >= Num)
            throw new VirtqueueException($"avail->ring[{NextAvail & _mask}] names head descriptor {head}, outside the table of {Num}");
        return head;
    }

    /// <summary>
    /// Walks the chain starting at <paramref name="head"/>, reading each descriptor once, and
    /// validates it: indexes in range, no loops, addresses in guest RAM, indirect tables well
    /// formed (2.7.5.3.1). Device-writable segments are collected up to <paramref name="collectLimit"/> bytes.
    /// </summary>
    public void ReadChain(ushort head, DescriptorChain chain, ulong collectLimit)
    {
        chain.Reset(head, collectLimit);
        ushort index = head;
        for (uint visited = 0; ; visited++)
        {
            // A chain without a loop visits each table entry at most once.
            if (visited == Num)
                throw new VirtqueueException($"chain from head {head} is longer than the queue size {Num} (a loop?)");
            VirtqDesc d = *(VirtqDesc*)(_desc + 16 * index);   // the one read of this descriptor
            AfterDescriptorRead?.Invoke(new DescriptorRead(head, -1, index));

            if ((d.flags & VirtqDesc.VIRTQ_DESC_F_INDIRECT) != 0)
            {
                if (!_indirect)
                    throw new VirtqueueException($"descriptor {index} is INDIRECT but VIRTIO_RING_F_INDIRECT_DESC was not negotiated");
                if ((d.flags & VirtqDesc.VIRTQ_DESC_F_NEXT) != 0)
                    throw new VirtqueueException($"descriptor {index} sets both INDIRECT and NEXT (2.7.5.3.1)");
                ReadIndirectTable(head, index, d, chain);
                return;
            }
            AddSegment(head, index, d, chain);
            if ((d.flags & VirtqDesc.VIRTQ_DESC_F_NEXT) == 0) return;
            if (d.next >= Num)
                throw new VirtqueueException($"descriptor {index} links to {d.next}, outside the table of {Num}");
            index = d.next;
        }
    }

    private void ReadIndirectTable(ushort head, ushort index, in VirtqDesc table, DescriptorChain chain)
    {
        if (table.len == 0 || table.len % 16 != 0)
            throw new VirtqueueException($"descriptor {index}: indirect table length {table.len} is not a non-zero multiple of 16");
        uint count = table.len / 16;
        if (count > MaxQueueSize)
            throw new VirtqueueException($"descriptor {index}: indirect table of {count} entries exceeds {MaxQueueSize}");
        if (!_memory.ContainsGuestRange(table.addr, table.len))
            throw new VirtqueueException($"descriptor {index}: indirect table 0x{table.addr:x}+{table.len} is outside guest memory");

        // Usually the table lies in one region and is read in place; otherwise entry by entry.
        byte* host = _memory.TranslateGuest(table.addr, table.len, out ulong contiguous);
        bool inPlace = contiguous == table.len;
        VirtqDesc d;
        var bytes = new Span<byte>(&d, sizeof(VirtqDesc));
        uint entry = 0;
        for (uint visited = 0; ; visited++)
        {
            if (visited == count)
                throw new VirtqueueException($"indirect table of descriptor {index} (head {head}) loops");
            // The one read of this entry (the range was checked above).
            if (inPlace) d = *(VirtqDesc*)(host + 16 * entry);
            else _memory.TryRead(table.addr + 16UL * entry, bytes);
            AfterDescriptorRead?.Invoke(new DescriptorRead(head, index, (ushort)entry));
            if ((d.flags & VirtqDesc.VIRTQ_DESC_F_INDIRECT) != 0)
                throw new VirtqueueException($"indirect table of descriptor {index}: entry {entry} is itself INDIRECT (2.7.5.3.1 allows one level)");
            AddSegment(head, (ushort)entry, d, chain, tableOf: index);
            if ((d.flags & VirtqDesc.VIRTQ_DESC_F_NEXT) == 0) return;
            if (d.next >= count)
                throw new VirtqueueException($"indirect table of descriptor {index}: entry {entry} links to {d.next}, outside the table of {count}");
            entry = d.next;
        }
    }

    /// <summary>Validates one descriptor's buffer and records it. <paramref name="tableOf"/> is the
    /// descriptor holding the indirect table this entry belongs to, or -1 for a direct one.</summary>
    private void AddSegment(ushort head, ushort index, in VirtqDesc d, DescriptorChain chain, int tableOf = -1)
    {
        if (d.len != 0 && !_memory.ContainsGuestRange(d.addr, d.len))
            throw new VirtqueueException((tableOf < 0 ? $"descriptor {index}" : $"indirect entry {index} (table of descriptor {tableOf})")
                + $" (head {head}): buffer 0x{d.addr:x}+{d.len} is outside guest memory");
        if ((d.flags & VirtqDesc.VIRTQ_DESC_F_WRITE) != 0) chain.AddWritable(d.addr, d.len);
        else chain.AddReadable();
    }

    /// <summary>Returns the chain at <paramref name="head"/> to the driver with <paramref name="length"/>
    /// bytes written (2.7.8: struct virtq_used_elem {le32 id; le32 len;}), consuming the avail entry.
    /// Invisible to the driver until <see cref="PublishUsed"/>.</summary>
    public void AddUsed(ushort head, uint length)
    {
        byte* elem = _used + 4 + 8 * (NextUsed & _mask);
        *(uint*)elem = head;
        *(uint*)(elem + 4) = length;
        NextUsed++;
        NextAvail++;
    }

    /// <summary>Makes the used elements visible: release-store of used->idx.</summary>
    public void PublishUsed() => Volatile.Write(ref UsedIdx, NextUsed);

    /// <summary>
    /// Whether to send a used buffer notification for what was published since the last call:
    /// with EVENT_IDX when used->idx passed used_event (2.7.7.2, vring_need_event), otherwise
    /// unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT (2.7.7.1).
    /// </summary>
    public bool ShouldNotify()
    {
        Interlocked.MemoryBarrier();   // used->idx store before the used_event / flags load
        if (!_eventIdx) return (Volatile.Read(ref AvailFlags) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
        ushort old = _signalledUsed, now = NextUsed;
        bool valid = _signalledUsedValid;
        _signalledUsed = now;
        _signalledUsedValid = true;
        if (!valid) return true;
        return NeedEvent(Volatile.Read(ref UsedEvent), now, old);
    }

    /// <summary>vring_need_event (spec 2.7.10): true if <paramref name="eventIdx"/> lies in [old, new), modulo 2^16: the other side asked to be told once the index passes eventIdx.</summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) =>
        (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);

    /// <summary>
    /// While the device polls the ring: ask the driver not to kick. With EVENT_IDX nothing to
    /// do, since avail_event stays where it was until <see cref="EnableKickAndRecheck"/> moves
    /// it; without, set VIRTQ_USED_F_NO_NOTIFY (2.7.7.2; Linux's vhost_disable_notify).
    /// </summary>
    public void DisableKicks()
    {
        if (!_eventIdx) Volatile.Write(ref UsedFlags, VIRTQ_USED_F_NO_NOTIFY);
    }

    /// <summary>
    /// Before going idle: ask for a kick at the next entry (EVENT_IDX: avail_event = next
    /// avail, 2.7.10; without: clear VIRTQ_USED_F_NO_NOTIFY) and re-check avail->idx after a
    /// full fence, since the driver may have published just before it saw the change (Linux's
    /// vhost_enable_notify). True if there is more to do.
    /// </summary>
    public bool EnableKickAndRecheck()
    {
        if (_eventIdx) Volatile.Write(ref AvailEvent, NextAvail);
        else Volatile.Write(ref UsedFlags, 0);
        Interlocked.MemoryBarrier();
        return ReadAvailIdx() != NextAvail;
    }
}
