using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // virtio 1.2 §2.8.13: one packed descriptor (struct pvirtq_desc). 16 bytes. The driver
    // writes it to make a buffer element available; the device overwrites id, len and flags
    // of the first slot of a buffer to mark the whole buffer used.
    public struct VringPackedDesc
    {
        public ulong addr;
        public uint len;     // available: element length; used: bytes the device wrote
        public ushort id;    // buffer id (not a ring position)
        public ushort flags; // VRING_DESC_F_NEXT/WRITE and the AVAIL (bit 7) / USED (bit 15) bits
    }

    // virtio 1.2 §2.8.14: an event suppression structure (Linux: struct vring_packed_desc_event).
    public struct VringPackedDescEvent
    {
        public ushort off_wrap;  // bits 0-14: ring offset, bit 15: wrap counter (flags == DESC only)
        public ushort flags;     // VRING_PACKED_EVENT_FLAG_ENABLE / DISABLE / DESC
    }

    // The packed virtqueue (virtio 1.2 §2.8), after Linux's drivers/virtio/virtio_ring.c
    // (virtqueue_*_packed). One DMA allocation holds:
    //
    //   +0         descriptor ring            16 * num  (both sides write it)
    //   +16*num    driver event suppression   4         (driver writes: "interrupt me?")
    //   +16*num+4  device event suppression   4         (device writes: "kick me?")
    //
    // One ring instead of three: the driver writes available descriptors at next_avail_idx,
    // the device writes used descriptors over them, in completion order, from its own
    // position. Who owns a slot is told by two flag bits and a wrap counter on each side
    // (§2.8.1): both counters start at 1 and flip each time their position passes the end of
    // the ring. Available: AVAIL == driver's counter, USED != it. Used: AVAIL == USED == the
    // device's counter. So num need not be a power of 2: positions simply run 0..num-1.
    //
    // Buffer ids (§2.8.13) are independent of ring positions: a free list of num ids, one per
    // buffer (Linux uses one per descriptor; one per buffer is enough without indirect). A used
    // descriptor names the id; the chain length remembered for that id says how many slots the
    // device skipped (§2.8.6), so the next used descriptor is that many slots further on.
    //
    // Trust: as SplitVirtqueue. Everything about a buffer lives in driver-private arrays
    // indexed by id; each used descriptor is checked (id in range, id outstanding, len within
    // the chain's writable bytes) before anything is touched, and a bad one breaks the queue.
    //
    // last_used_idx and the values of enable_cb_prepare / poll carry the used wrap counter in
    // bit 15, exactly the off_wrap format (Linux does the same since 6.0), so they can be
    // written to the driver event suppression structure as they are.
    public sealed unsafe class PackedVirtqueue : Virtqueue
    {
        public const uint VRING_PACKED_DESC_SIZE = 16;
        public const uint VRING_PACKED_EVENT_SIZE = 4;
        public const uint VIRTQUEUE_MAX_SIZE = 32768;        // §2.8: "up to 2^15 entries"

        public const ushort VRING_DESC_F_NEXT = 1;
        public const ushort VRING_DESC_F_WRITE = 2;
        public const int VRING_PACKED_DESC_F_AVAIL = 7;      // bit numbers, as Linux
        public const int VRING_PACKED_DESC_F_USED = 15;
        public const ushort AVAIL = 1 << VRING_PACKED_DESC_F_AVAIL;
        public const ushort USED = 1 << VRING_PACKED_DESC_F_USED;

        public const ushort VRING_PACKED_EVENT_FLAG_ENABLE = 0;   // §2.8.10: notify always
        public const ushort VRING_PACKED_EVENT_FLAG_DISABLE = 1;  //          never
        public const ushort VRING_PACKED_EVENT_FLAG_DESC = 2;     //          at off_wrap (EVENT_IDX only)
        public const int VRING_PACKED_EVENT_F_WRAP_CTR = 15;

        private DmaBuffer _ring;
        private VringPackedDesc* _desc;
        private VringPackedDescEvent* _driverEvent;   // Driver Area: we write, device reads
        private VringPackedDescEvent* _deviceEvent;   // Device Area: device writes, we read

        private readonly VirtqueueNotifier _notifier;
        private readonly bool _event;                 // VIRTIO_F_EVENT_IDX negotiated

        // Driver-private state (Linux: vq->packed.*).
        private ushort _nextAvailIdx;      // next slot we make available
        private bool _availWrapCounter;    // Driver Ring Wrap Counter (§2.8.1)
        private ushort _availUsedFlags;    // AVAIL/USED bits that mean "available" in this lap
        private ushort _lastUsedIdx;       // next slot to look at for a used descriptor | used wrap << 15
        private ushort _eventFlagsShadow;  // what we wrote to driver event suppression .flags
        private uint _numAdded;            // descriptors made available since the last kick_prepare
        private ushort _freeHead;          // first free buffer id
        private readonly ushort[] _nextId;       // free id list, never read from the ring
        private readonly ushort[] _chainLen;     // descriptors (ring slots) of the buffer with this id
        private readonly uint[] _writableLen;    // its device-writable bytes
        private readonly bool[] _outstanding;    // the id is in the device's hands
        private readonly ulong[] _token;

        public override ulong DescAreaPhys { get { return _ring.Phys; } }
        public override ulong DriverAreaPhys { get { return _ring.Phys + VRING_PACKED_DESC_SIZE * Num; } }
        public override ulong DeviceAreaPhys { get { return DriverAreaPhys + VRING_PACKED_EVENT_SIZE; } }
        public bool EventIdx { get { return _event; } }
        public ushort NextAvailIdx { get { return _nextAvailIdx; } }
        public bool AvailWrapCounter { get { return _availWrapCounter; } }
        public ushort LastUsedIdx { get { return _lastUsedIdx; } }   // off_wrap format

        private PackedVirtqueue(ushort index, uint num, DmaBuffer ring, bool eventIdx, VirtqueueNotifier notifier)
        {
            Index = index;
            Num = num;
            NumFree = num;
            _ring = ring;
            _event = eventIdx;
            _notifier = notifier;
            _desc = (VringPackedDesc*)ring.Virt;
            _driverEvent = (VringPackedDescEvent*)(ring.Virt + VRING_PACKED_DESC_SIZE * num);
            _deviceEvent = _driverEvent + 1;

            // §2.8.1: both wrap counters start at 1 (Linux: vring_packed_init). The zeroed
            // ring then reads "neither available nor used" everywhere.
            _availWrapCounter = true;
            _availUsedFlags = AVAIL;
            _nextAvailIdx = 0;
            _lastUsedIdx = 1 << VRING_PACKED_EVENT_F_WRAP_CTR;
            _eventFlagsShadow = VRING_PACKED_EVENT_FLAG_ENABLE;   // the zeroed structure says so

            _nextId = new ushort[num];
            _chainLen = new ushort[num];
            _writableLen = new uint[num];
            _outstanding = new bool[num];
            _token = new ulong[num];
            for (uint i = 0; i + 1 < num; i++) _nextId[i] = (ushort)(i + 1);
            _freeHead = 0;
        }

        // vring_size for the packed layout.
        public static ulong vring_size_packed(uint num)
        {
            return VRING_PACKED_DESC_SIZE * (ulong)num + 2 * VRING_PACKED_EVENT_SIZE;
        }

        // vring_create_virtqueue_packed: any size from 1 to 32768. Halves on DMA shortage like
        // the split ring, so both layouts degrade alike.
        public static PackedVirtqueue vring_create_virtqueue(ushort index, uint num, bool eventIdx,
                                                             VirtqueueNotifier notifier, out DriverError err)
        {
            err = DriverError.Ok;
            if (num == 0 || num > VIRTQUEUE_MAX_SIZE)
            {
                err = DriverError.QueueSizeInvalid;
                return null;
            }
            DmaBuffer ring = VringCreate.vring_alloc_queue(ref num, true);
            if (ring.IsNull)
            {
                err = DriverError.OutOfDmaMemory;
                return null;
            }
            return new PackedVirtqueue(index, num, ring, eventIdx, notifier);
        }

        // virtqueue_add_packed (§2.8.21.1 "Placing Available Buffers Into The Descriptor Ring").
        public override DriverError virtqueue_add(ulong* addr, uint* len, uint outNum, uint inNum, ulong token)
        {
            if (Broken) return DriverError.QueueBroken;
            uint total = outNum + inNum;
            if (total == 0 || total > Num) return DriverError.QueueFull;
            if (NumFree < total) return DriverError.QueueFull;
            ushort id = _freeHead;
            if (id >= Num || _outstanding[id]) return DriverError.QueueFull;   // cannot happen: ids >= buffers

            // Every descriptor but the head gets its flags now; the head's flags wait until the
            // whole chain is written (§2.8.6: "the driver always makes the first descriptor in
            // the list available after the rest of the list has been written out").
            ushort head = _nextAvailIdx;
            ushort headFlags = 0;
            uint i = head;
            ulong writable = 0;
            for (uint k = 0; k < total; k++)
            {
                ushort flags = _availUsedFlags;
                if (k >= outNum) { flags |= VRING_DESC_F_WRITE; writable += len[k]; }
                if (k + 1 < total) flags |= VRING_DESC_F_NEXT;
                VringPackedDesc* d = _desc + i;
                d->addr = addr[k];
                d->len = len[k];
                d->id = id;              // §2.8.6 needs it in the last one; Linux writes all
                if (k == 0) headFlags = flags;
                else d->flags = flags;
                if (++i >= Num)
                {
                    // Passed the end: the rest of the chain belongs to the next lap (§2.8.1).
                    i = 0;
                    _availUsedFlags ^= AVAIL | USED;
                    _availWrapCounter = !_availWrapCounter;
                }
            }
            _nextAvailIdx = (ushort)i;
            NumFree -= total;
            _freeHead = _nextId[id];
            _chainLen[id] = (ushort)total;
            _writableLen[id] = writable > 0xFFFFFFFF ? 0xFFFFFFFF : (uint)writable;
            _outstanding[id] = true;
            _token[id] = token;

            // §2.8.21.1.1 "The driver MUST perform a suitable memory barrier before the flags
            // update" (virtio_wmb): the device must never see the head available and then
            // read a stale address, length or a later descriptor's flags.
            Barrier.dma_wmb();
            _desc[head].flags = headFlags;
            _numAdded += total;
            return DriverError.Ok;
        }

        // Does moving our position from old to new (both in the event's coordinates, modulo
        // 2^16) pass the descriptor the other side asked about in off_wrap? Positions from the
        // other lap are shifted down by num so one wrap-safe compare decides
        // (virtqueue_kick_prepare_packed, and the device's mirror of it).
        public static bool vring_packed_need_event(ushort offWrap, ushort newIdx, ushort old, bool wrapCounter, uint num)
        {
            bool eventWrap = (offWrap >> VRING_PACKED_EVENT_F_WRAP_CTR) != 0;
            ushort eventIdx = (ushort)(offWrap & ~(1 << VRING_PACKED_EVENT_F_WRAP_CTR));
            if (eventWrap != wrapCounter) eventIdx = (ushort)(eventIdx - num);
            return vring_need_event(eventIdx, newIdx, old);
        }

        // virtqueue_kick_prepare_packed (§2.8.21.2, §2.8.10).
        public override bool virtqueue_kick_prepare()
        {
            // §2.8.21.2 "The driver MUST perform a suitable memory barrier before reading the
            // Event Suppression structure occupying the Device Area" (virtio_mb): our head
            // flags store must be visible before we load the device's wish, or both sides
            // can go to sleep waiting for each other.
            Barrier.virt_mb();
            uint added = _numAdded;
            ushort newIdx = _nextAvailIdx;
            ushort old = (ushort)(newIdx - added);
            _numAdded = 0;

            // One 32-bit load: off_wrap and flags from the same moment (Linux reads a snapshot).
            uint snapshot = *(uint*)_deviceEvent;
            ushort offWrap = (ushort)snapshot;
            ushort flags = (ushort)(snapshot >> 16);
            if (flags != VRING_PACKED_EVENT_FLAG_DESC) return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
            if (!_event) return true;                    // DESC without EVENT_IDX is invalid: kick
            // More than a lap since the last decision: positions are ambiguous; kicking is safe.
            if (added > Num) return true;
            return vring_packed_need_event(offWrap, newIdx, old, _availWrapCounter, Num);
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

        // is_used_desc_packed: the slot holds a used descriptor of the lap given by usedWrapCounter.
        private bool is_used_desc_packed(ushort idx, bool usedWrapCounter)
        {
            ushort flags = _desc[idx].flags;
            bool avail = (flags & AVAIL) != 0;
            bool used = (flags & USED) != 0;
            return avail == used && used == usedWrapCounter;
        }

        private static ushort packed_last_used(ushort offWrap) { return (ushort)(offWrap & 0x7FFF); }
        private static bool packed_used_wrap_counter(ushort offWrap) { return (offWrap >> VRING_PACKED_EVENT_F_WRAP_CTR) != 0; }

        // more_used_packed
        public override bool virtqueue_more_used()
        {
            return is_used_desc_packed(packed_last_used(_lastUsedIdx), packed_used_wrap_counter(_lastUsedIdx));
        }

        // virtqueue_get_buf_ctx_packed (§2.8.22 "Receiving Used Buffers From The Device").
        public override bool virtqueue_get_buf(out ulong token, out uint len, out DriverError error)
        {
            token = 0;
            len = 0;
            error = DriverError.Ok;
            if (Broken) { error = DriverError.QueueBroken; return false; }
            if (!virtqueue_more_used()) return false;

            // "Only get used elements after they have been exposed by host" (virtio_rmb): id,
            // len and the data in our buffer must not be read before the flags that published them.
            Barrier.dma_rmb();

            ushort lastUsed = packed_last_used(_lastUsedIdx);
            bool usedWrapCounter = packed_used_wrap_counter(_lastUsedIdx);
            VringPackedDesc* d = _desc + lastUsed;
            uint id = d->id;        // read each field once: the device could change it under us
            uint l = d->len;
            if (id >= Num) { error = bad_ring(DriverError.UsedIdOutOfRange, id, " (packed)"u8); return false; }
            if (!_outstanding[id]) { error = bad_ring(DriverError.UsedIdNotOutstanding, id, " (packed)"u8); return false; }
            if (l > _writableLen[id])
            {
                detach_buf_packed(id);
                error = bad_ring(DriverError.UsedLenTooLarge, l, " (packed)"u8);
                return false;
            }

            token = _token[id];
            len = l;
            // §2.8.6: the device wrote one used descriptor for the whole chain and skipped the
            // rest of its slots; so do we.
            uint next = (uint)lastUsed + _chainLen[id];
            detach_buf_packed(id);
            if (next >= Num)
            {
                next -= Num;
                usedWrapCounter = !usedWrapCounter;
            }
            _lastUsedIdx = (ushort)(next | (usedWrapCounter ? 1u << VRING_PACKED_EVENT_F_WRAP_CTR : 0u));

            // "If we expect an interrupt for the next entry, tell host by writing event index
            // and flush out the write before the read in the next get_buf call" (virtio_store_mb).
            if (_eventFlagsShadow == VRING_PACKED_EVENT_FLAG_DESC)
            {
                _driverEvent->off_wrap = _lastUsedIdx;
                Barrier.virt_mb();
            }
            return true;
        }

        // detach_buf_packed: the id goes back on the free list, its slots count as free again.
        private void detach_buf_packed(uint id)
        {
            NumFree += _chainLen[id];
            _nextId[id] = _freeHead;
            _freeHead = (ushort)id;
            _outstanding[id] = false;
            _token[id] = 0;
            _chainLen[id] = 0;
            _writableLen[id] = 0;
        }

        // virtqueue_disable_cb_packed (§2.8.10): DISABLE is honoured with or without EVENT_IDX,
        // so no used_event trick is needed as in the split ring.
        public override void virtqueue_disable_cb()
        {
            if (_eventFlagsShadow == VRING_PACKED_EVENT_FLAG_DISABLE) return;
            _eventFlagsShadow = VRING_PACKED_EVENT_FLAG_DISABLE;
            _driverEvent->flags = _eventFlagsShadow;
        }

        // virtqueue_enable_cb_prepare_packed: interrupt from the next used descriptor on. With
        // EVENT_IDX that is DESC at last_used_idx; "we need to update event offset and event
        // wrap counter first before updating event flags" (virtio_wmb).
        public override uint virtqueue_enable_cb_prepare()
        {
            if (_event)
            {
                _driverEvent->off_wrap = _lastUsedIdx;
                Barrier.dma_wmb();
            }
            if (_eventFlagsShadow == VRING_PACKED_EVENT_FLAG_DISABLE)
            {
                _eventFlagsShadow = _event ? VRING_PACKED_EVENT_FLAG_DESC : VRING_PACKED_EVENT_FLAG_ENABLE;
                _driverEvent->flags = _eventFlagsShadow;
            }
            return _lastUsedIdx;
        }

        // virtqueue_poll_packed: is the slot enable_cb_prepare returned (offset | wrap << 15)
        // used by now? The barrier orders our event suppression stores before the load.
        public override bool virtqueue_poll(uint lastUsedIdx)
        {
            Barrier.virt_mb();
            ushort offWrap = (ushort)lastUsedIdx;
            ushort idx = packed_last_used(offWrap);
            if (idx >= Num) return false;
            return is_used_desc_packed(idx, packed_used_wrap_counter(offWrap));
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
