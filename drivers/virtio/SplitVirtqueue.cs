using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // virtio 1.2 §2.7.5: one descriptor. 16 bytes, little-endian like every ring field.
    public struct VringDesc
    {
        public ulong addr;   // guest physical address of the buffer
        public uint len;
        public ushort flags; // VRING_DESC_F_*
        public ushort next;  // next descriptor of the chain when flags has NEXT
    }

    // virtio 1.2 §2.7.8: one used-ring element. 8 bytes.
    public struct VringUsedElem
    {
        public uint id;      // head descriptor of the chain the device finished
        public uint len;     // bytes the device wrote into the chain's writable buffers
    }

    // The split virtqueue (virtio 1.2 §2.7), transport-agnostic like Linux's
    // drivers/virtio/virtio_ring.c (vring_*, virtqueue_*_split). One DMA allocation holds:
    //
    //   +0                 descriptor table   16 * num            (driver writes)
    //   +16*num            available ring     flags, idx, ring[num], used_event   (driver writes)
    //   align up to 64     used ring          flags, idx, ring[num]{id,len}, avail_event (device writes)
    //
    // (Linux: vring_init with vring_align = SMP_CACHE_BYTES; queue size 8 gives +0/+0x80/+0xc0.)
    //
    // Indices: avail->idx and used->idx are free-running 16-bit counters that wrap at 65536;
    // the ring slot is idx & (num - 1), which is why num is a power of 2. Only differences of
    // indices are ever compared, so the wrap needs no special case.
    //
    // Trust: the device owns nothing but the used ring. Every used element is checked (id in
    // range, id outstanding, len within the buffer) and the descriptor chain bookkeeping lives
    // in driver-private arrays, so a misbehaving device yields an error value and a broken
    // queue, never a write outside our buffers (Linux keeps desc_extra for the same reason).
    //
    // Barriers: every one is a Hal.Barrier call (also a compiler barrier: the compiler may
    // neither drop nor move ring accesses across it). Linux's virtio_wmb / virtio_rmb /
    // virtio_mb with weak_barriers=true map to dma_wmb / dma_rmb / virt_mb.
    public sealed unsafe class SplitVirtqueue : Virtqueue
    {
        public const uint VRING_DESC_SIZE = 16;
        public const uint VRING_USED_ELEM_SIZE = 8;
        public const ulong VRING_ALIGN = 64;                 // SMP_CACHE_BYTES, as Linux's virtio_pci
        public const uint VIRTQUEUE_MAX_SIZE = 32768;        // §2.7: "the maximum Queue Size value is 32768"

        public const ushort VRING_DESC_F_NEXT = 1;           // chain continues in .next
        public const ushort VRING_DESC_F_WRITE = 2;          // device writes (else reads) this buffer
        public const ushort VRING_DESC_F_INDIRECT = 4;
        public const ushort VRING_USED_F_NO_NOTIFY = 1;      // device: "don't kick me" (no EVENT_IDX)
        public const ushort VRING_AVAIL_F_NO_INTERRUPT = 1;  // driver: "don't interrupt me" (no EVENT_IDX)

        private DmaBuffer _ring;
        private VringDesc* _desc;
        private ushort* _availFlags;
        private ushort* _availIdx;
        private ushort* _availRing;
        private ushort* _usedEvent;      // avail->ring[num]: driver's used_event (§2.7.7)
        private ushort* _usedFlags;
        private ushort* _usedIdx;
        private VringUsedElem* _usedRing;
        private ushort* _availEvent;     // used->ring[num]: device's avail_event (§2.7.10)

        private readonly VirtqueueNotifier _notifier;
        private readonly bool _event;    // VIRTIO_F_EVENT_IDX negotiated

        // Driver-private state (Linux: vq->free_head, desc_state, desc_extra, *_shadow).
        private ushort _freeHead;
        private ushort _availIdxShadow;  // what we have published in avail->idx
        private ushort _availFlagsShadow;
        private ushort _lastUsedIdx;     // next used element we will look at
        private uint _numAdded;          // added since the last kick_prepare
        private readonly ushort[] _next;         // free list / chain links, never read from the ring
        private readonly ushort[] _chainLen;     // descriptors in the chain headed here
        private readonly uint[] _writableLen;    // device-writable bytes of that chain
        private readonly bool[] _outstanding;    // chain head currently owned by the device
        private readonly ulong[] _token;

        public ulong DescPhys { get { return _ring.Phys; } }
        public ulong AvailPhys { get { return _ring.Phys + VRING_DESC_SIZE * Num; } }
        public ulong UsedPhys { get { return _ring.Phys + UsedOffset(Num, _align); } }
        public override ulong DescAreaPhys { get { return DescPhys; } }
        public override ulong DriverAreaPhys { get { return AvailPhys; } }
        public override ulong DeviceAreaPhys { get { return UsedPhys; } }
        public bool EventIdx { get { return _event; } }
        public ushort AvailIdxShadow { get { return _availIdxShadow; } }
        public ushort LastUsedIdx { get { return _lastUsedIdx; } }

        private readonly ulong _align;   // of the used ring: VRING_ALIGN, or the legacy interfaces' page

        private SplitVirtqueue(ushort index, uint num, ulong align, DmaBuffer ring, bool eventIdx, VirtqueueNotifier notifier)
        {
            _align = align;
            Index = index;
            Num = num;
            NumFree = num;
            _ring = ring;
            _event = eventIdx;
            _notifier = notifier;

            byte* b = ring.Virt;
            _desc = (VringDesc*)b;
            byte* avail = b + VRING_DESC_SIZE * num;
            _availFlags = (ushort*)avail;
            _availIdx = (ushort*)(avail + 2);
            _availRing = (ushort*)(avail + 4);
            _usedEvent = _availRing + num;
            byte* used = b + UsedOffset(num, align);
            _usedFlags = (ushort*)used;
            _usedIdx = (ushort*)(used + 2);
            _usedRing = (VringUsedElem*)(used + 4);
            _availEvent = (ushort*)(used + 4 + VRING_USED_ELEM_SIZE * num);

            _next = new ushort[num];
            _chainLen = new ushort[num];
            _writableLen = new uint[num];
            _outstanding = new bool[num];
            _token = new ulong[num];
            // Put everything on the free list (Linux: virtqueue_init / vring_alloc_desc_extra).
            for (uint i = 0; i + 1 < num; i++) _next[i] = (ushort)(i + 1);
            _freeHead = 0;
        }

        // Offset of the used ring in the allocation (vring_init). The legacy interfaces fix the
        // layout (§2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout"): the used ring starts
        // at the next `align` boundary (4096 for legacy virtio-pci, QueueAlign for virtio-mmio
        // version 1); a modern device is told each area's address and any align works.
        public static ulong UsedOffset(uint num, ulong align = VRING_ALIGN)
        {
            ulong availEnd = VRING_DESC_SIZE * num + 2 * (3 + (ulong)num);   // desc + avail incl. used_event
            return (availEnd + align - 1) & ~(align - 1);
        }

        // vring_size: bytes for a split ring of num entries.
        public static ulong vring_size(uint num, ulong align = VRING_ALIGN)
        {
            return UsedOffset(num, align) + 2 * 3 + VRING_USED_ELEM_SIZE * (ulong)num;
        }

        public static bool IsPowerOf2(uint v) { return v != 0 && (v & (v - 1)) == 0; }

        // vring_create_virtqueue (split): allocate the ring for up to `num` entries, halving the
        // size when DMA memory is short, like vring_alloc_queue_split. num must be a power of 2.
        public static SplitVirtqueue vring_create_virtqueue(ushort index, uint num, bool eventIdx,
                                                            VirtqueueNotifier notifier, out DriverError err,
                                                            ulong align = VRING_ALIGN)
        {
            err = DriverError.Ok;
            if (!IsPowerOf2(num) || num > VIRTQUEUE_MAX_SIZE)
            {
                err = DriverError.QueueSizeInvalid;
                return null;
            }
            DmaBuffer ring = VringCreate.vring_alloc_queue(ref num, false, align);
            if (ring.IsNull)
            {
                err = DriverError.OutOfDmaMemory;
                return null;
            }
            return new SplitVirtqueue(index, num, align, ring, eventIdx, notifier);
        }

        // virtqueue_add_split (virtio 1.2 §2.7.13 "Supplying Buffers to The Device").
        public override DriverError virtqueue_add(ulong* addr, uint* len, uint outNum, uint inNum, ulong token)
        {
            if (Broken) return DriverError.QueueBroken;
            uint total = outNum + inNum;
            if (total == 0 || total > Num) return DriverError.QueueFull;
            if (NumFree < total) return DriverError.QueueFull;

            // §2.7.13.1: place the buffers into free descriptors, linked with NEXT.
            ushort head = _freeHead;
            ushort i = head;
            ulong writable = 0;
            for (uint k = 0; k < total; k++)
            {
                VringDesc* d = _desc + i;
                ushort flags = 0;
                if (k >= outNum && !DriverFaults.Fire(DriverFaults.DeviceReadableBuffer)) { flags |= VRING_DESC_F_WRITE; writable += len[k]; }
                ushort next = _next[i];
                if (k + 1 < total) flags |= VRING_DESC_F_NEXT;
                d->addr = addr[k];
                d->len = len[k];
                d->flags = flags;
                d->next = (k + 1 < total) ? next : (ushort)0;
                i = next;
            }
            _freeHead = i;
            NumFree -= total;
            _chainLen[head] = (ushort)total;
            _writableLen[head] = writable > 0xFFFFFFFF ? 0xFFFFFFFF : (uint)writable;
            _outstanding[head] = true;
            _token[head] = token;

            // §2.7.13.2: put the head in the next available-ring slot (not yet visible: idx
            // still says the device may not look at it).
            _availRing[_availIdxShadow & (Num - 1)] = DriverFaults.AvailHead(head, Num);

            // §2.7.13.3: "Descriptors and available array need to be set before we expose the
            // new available array entries" (virtio_wmb): the device must never see the new
            // idx and then read a stale descriptor or ring slot.
            Barrier.dma_wmb();
            _availIdxShadow++;
            *_availIdx = _availIdxShadow;
            _numAdded++;

            // Linux: "This is very unlikely, but theoretically possible. Kick just in case."
            // (65535 adds without a kick would make old == new in kick_prepare.)
            if (_numAdded == 0xFFFF) virtqueue_kick();
            return DriverError.Ok;
        }

        // virtqueue_kick_prepare_split (§2.7.13.4, §2.7.10).
        public override bool virtqueue_kick_prepare()
        {
            // "We need to expose available array entries before checking avail event"
            // (virtio_mb): a full barrier between our store to avail->idx and our load of the
            // device's avail_event / used->flags. Without it the load may be satisfied before the
            // store is visible; the device, seeing no new idx, goes to sleep after setting its
            // event, and we read the old event and skip the kick: both wait forever.
            Barrier.virt_mb();
            ushort newIdx = _availIdxShadow;
            ushort old = (ushort)(newIdx - _numAdded);
            _numAdded = 0;
            if (_event) return vring_need_event(*_availEvent, newIdx, old);
            return (*_usedFlags & VRING_USED_F_NO_NOTIFY) == 0;
        }

        public override bool virtqueue_notify()
        {
            if (Broken) return false;
            if (!_notifier.Notify(Index))
            {
                Broken = true;
                BrokenReason = DriverError.QueueBroken;
                return false;
            }
            return true;
        }

        // more_used_split
        public override bool virtqueue_more_used()
        {
            return *_usedIdx != _lastUsedIdx;
        }

        // virtqueue_get_buf_ctx_split (§2.7.14 "Receiving Used Buffers From The Device").
        public override bool virtqueue_get_buf(out ulong token, out uint len, out DriverError error)
        {
            token = 0;
            len = 0;
            error = DriverError.Ok;
            if (Broken) { error = DriverError.QueueBroken; return false; }

            ushort usedIdx = *_usedIdx;
            if (usedIdx == _lastUsedIdx) return false;

            // The used ring has num slots: the device can never be more than num ahead.
            if ((ushort)(usedIdx - _lastUsedIdx) > Num)
            {
                error = bad_ring(DriverError.UsedIdxInvalid, usedIdx, ""u8);
                return false;
            }

            // "Only get used array entries after they have been exposed by host" (virtio_rmb):
            // the element (and the data the device wrote into our buffer) must not be read
            // before the used->idx that published them.
            Barrier.dma_rmb();

            VringUsedElem* e = _usedRing + (_lastUsedIdx & (Num - 1));
            uint id = e->id;     // read each field once: the device could change it under us
            uint l = e->len;
            if (id >= Num) { error = bad_ring(DriverError.UsedIdOutOfRange, id, ""u8); return false; }
            if (!_outstanding[id]) { error = bad_ring(DriverError.UsedIdNotOutstanding, id, ""u8); return false; }
            if (l > _writableLen[id])
            {
                detach_buf_split(id);
                error = bad_ring(DriverError.UsedLenTooLarge, l, ""u8);
                return false;
            }

            token = _token[id];
            len = l;
            detach_buf_split(id);
            _lastUsedIdx++;

            // "If we expect an interrupt for the next entry, tell host by writing event index
            // and flush out the write before the read in the next get_buf call"
            // (virtio_store_mb): used_event = the next used index we want to hear about.
            if ((_availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) == 0)
            {
                *_usedEvent = _lastUsedIdx;
                Barrier.virt_mb();
            }
            else if (_event)
            {
                // Interrupts off: keep used_event one behind what we consumed (see disable_cb).
                *_usedEvent = (ushort)(_lastUsedIdx - 1);
            }
            return true;
        }

        // Give a finished chain's descriptors back to the free list.
        private void detach_buf_split(uint head)
        {
            uint count = _chainLen[head];
            uint tail = head;
            for (uint k = 1; k < count; k++) tail = _next[tail];
            _next[tail] = _freeHead;
            _freeHead = (ushort)head;
            NumFree += count;
            _outstanding[head] = false;
            _token[head] = 0;
            _chainLen[head] = 0;
            _writableLen[head] = 0;
        }

        // virtqueue_disable_cb_split: ask the device not to interrupt (§2.7.7). Only a hint.
        public override void virtqueue_disable_cb()
        {
            if ((_availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) != 0) return;
            _availFlagsShadow |= VRING_AVAIL_F_NO_INTERRUPT;
            // With EVENT_IDX the device ignores the flag and only looks at used_event. Linux
            // parks it at 0 ("a hack"), which still fires each time used->idx passes 0. Here it
            // is parked one behind the last entry we consumed: to cross it the device would
            // have to run 65535 entries ahead of us, more than any ring holds, so it never
            // fires (get_buf keeps it one behind). Without EVENT_IDX the flag is the hint.
            if (_event) *_usedEvent = (ushort)(_lastUsedIdx - 1);
            else *_availFlags = _availFlagsShadow;
        }

        // virtqueue_enable_cb_prepare_split: re-enable interrupts from the next used entry.
        public override uint virtqueue_enable_cb_prepare()
        {
            if ((_availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) != 0)
            {
                _availFlagsShadow = (ushort)(_availFlagsShadow & ~VRING_AVAIL_F_NO_INTERRUPT);
                if (!_event) *_availFlags = _availFlagsShadow;
            }
            *_usedEvent = _lastUsedIdx;
            return _lastUsedIdx;
        }

        // virtqueue_poll_split: did the device use anything past lastUsedIdx? The barrier
        // orders our used_event store (enable_cb_prepare) before the used->idx load, so an
        // entry that raced with re-enabling is seen here rather than lost.
        public override bool virtqueue_poll(uint lastUsedIdx)
        {
            Barrier.virt_mb();
            return (ushort)lastUsedIdx != *_usedIdx;
        }

        public override void vring_del_virtqueue()
        {
            if (_ring.IsNull) return;
            Dma.FreeCoherent(_ring);
            _ring.Virt = null;
            _ring.Phys = 0;
            Broken = true;
            BrokenReason = DriverError.DeviceRemoved;
        }
    }
}
