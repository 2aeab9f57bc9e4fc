using System;
using System.Collections.Generic;
using System.Threading;

namespace GuestOS.Tests.Simulation
{
    // The device side of one packed virtqueue (virtio 1.2 §2.8), written from the spec, not
    // from the driver: it polls the one slot after the last it took (§2.8.2), takes a chain
    // when the head's AVAIL/USED bits say "available" for its view of the driver's wrap
    // counter, checks every descriptor of the chain the same way, and later writes one used
    // descriptor per buffer at its own used position, id and len first, flags last, then skips
    // the rest of the chain's slots (§2.8.6). Both device wrap counters start at 1 (§2.8.1).
    //
    // Misbehaviour on demand: MangleUsed (bad id, bad len), Pick (complete buffers out of
    // order), HoldBack (keep buffers so later ones overtake them), PushUsed (write anything).
    public sealed unsafe class SimPackedVring : SimRing
    {
        public const ushort NEXT = 1, WRITE = 2, INDIRECT = 4, AVAIL = 1 << 7, USED = 1 << 15;
        public const ushort FLAG_ENABLE = 0, FLAG_DISABLE = 1, FLAG_DESC = 2;

        // Device state.
        public uint AvailPos;          // next slot the device looks at for an available descriptor
        public bool AvailWrap = true;  // the device's idea of the Driver Ring Wrap Counter
        public uint UsedPos;           // where the next used descriptor goes
        public bool UsedWrap = true;   // Device Ring Wrap Counter
        public long Taken;             // buffers taken from the ring
        public long UsedLaps;          // times UsedWrap flipped
        public long AvailLaps;         // times AvailWrap flipped

        // Knobs.
        public bool AutoEvent = true;  // with EVENT_IDX, ask for a kick at the next slot when idle
        public Func<int, int> Pick;    // in-flight count -> index of the one to complete next (null: oldest)
        public int HoldBack;           // buffers the device keeps unfinished at the end of Process

        public sealed class InFlight
        {
            public ushort Id;
            public uint Slots;         // descriptors of the chain (slots the used descriptor covers)
            public uint HeadPos;
            public List<(ulong addr, uint len)> Writable = new List<(ulong, uint)>();
        }
        public readonly List<InFlight> Pending = new List<InFlight>();
        private uint _deviceEventWritten;   // what we last stored in the device area

        public SimPackedVring(List<string> errors) : base(errors) { }

        protected override (string, ulong, ulong)[] Areas => new[]
        {
            ("descriptor ring", Desc, 16UL * Size), ("driver event suppression", Driver, 4UL), ("device event suppression", Device, 4UL),
        };

        public override bool HasWork => Pending.Count > HoldBack || IsAvail(DescFlags(AvailPos), AvailWrap);

        // ---- ring memory ---------------------------------------------------------------------
        public ulong DescAddr(uint i) => *(ulong*)(Desc + 16 * i);
        public uint DescLen(uint i) => *(uint*)(Desc + 16 * i + 8);
        public ushort DescId(uint i) => *(ushort*)(Desc + 16 * i + 12);
        public ushort DescFlags(uint i) => *(ushort*)(Desc + 16 * i + 14);

        // Driver Event Suppression (Driver Area, read-only for the device): "interrupt me?".
        public ushort DriverEventOffWrap => *(ushort*)Driver;
        public ushort DriverEventFlags => *(ushort*)(Driver + 2);

        // Device Event Suppression (Device Area, written by the device): "kick me?". One
        // 32-bit store, so the driver's snapshot sees off_wrap and flags together.
        public ushort DeviceEventOffWrap => *(ushort*)Device;
        public ushort DeviceEventFlags => *(ushort*)(Device + 2);
        public void SetDeviceEvent(ushort flags, ushort offWrap = 0)
        {
            _deviceEventWritten = offWrap | ((uint)flags << 16);
            Volatile.Write(ref *(uint*)Device, _deviceEventWritten);
        }
        public static ushort OffWrap(uint pos, bool wrap) => (ushort)(pos | (wrap ? 0x8000u : 0u));

        // §2.8.1: available = AVAIL matches the wrap counter and USED does not.
        public static bool IsAvail(ushort flags, bool wrap) => ((flags & AVAIL) != 0) == wrap && ((flags & USED) != 0) != wrap;

        // Reference rule of §2.8.10 written independently of the driver's arithmetic: walking
        // the ring slot by slot from (old, oldWrap) to (new, newWrap), is the slot named by
        // off_wrap (offset and wrap counter) one of those passed?
        public static bool NeedEvent(ushort offWrap, uint oldPos, bool oldWrap, uint newPos, bool newWrap, uint size)
        {
            uint off = offWrap & 0x7FFFu;
            bool wrap = (offWrap & 0x8000) != 0;
            uint pos = oldPos;
            bool w = oldWrap;
            for (uint steps = 0; steps <= size && !(pos == newPos && w == newWrap); steps++)
            {
                if (pos == off && w == wrap) return true;
                if (++pos == size) { pos = 0; w = !w; }
            }
            return false;
        }

        // ---- taking available buffers ----------------------------------------------------------

        // Take every chain the driver made available, in ring order (§2.8.12). -1 on a ring error.
        private int TakeAvailable()
        {
            int taken = 0;
            while (true)
            {
                ushort headFlags = DescFlags(AvailPos);
                if (!IsAvail(headFlags, AvailWrap))
                {
                    if (!EventIdx || !AutoEvent) break;
                    // Ask to be kicked when this very slot becomes available, then look again so
                    // a descriptor published meanwhile is not missed (the device's half of the
                    // handshake whose driver half is the barrier in kick_prepare).
                    SetDeviceEvent(FLAG_DESC, OffWrap(AvailPos, AvailWrap));
                    Interlocked.MemoryBarrier();
                    if (!IsAvail(DescFlags(AvailPos), AvailWrap)) break;
                    continue;
                }
                Interlocked.MemoryBarrier();   // descriptor bodies after the head's flags
                var b = new InFlight { HeadPos = AvailPos };
                uint pos = AvailPos;
                bool wrap = AvailWrap;
                bool sawWritable = false;
                while (true)
                {
                    if (++b.Slots > Size) { Errors.Add($"descriptor chain at {b.HeadPos} longer than the queue ({Size})"); return -1; }
                    ushort flags = DescFlags(pos);
                    if (!IsAvail(flags, wrap))
                    {
                        Errors.Add($"descriptor {pos} of the chain at {b.HeadPos} not available (flags 0x{flags:x4}, wrap {(wrap ? 1 : 0)}) (§2.8.6)");
                        return -1;
                    }
                    if ((flags & INDIRECT) != 0)
                    {
                        Errors.Add(IndirectDesc ? $"descriptor {pos}: INDIRECT (negotiated, but this simulation reads no indirect tables)"
                                                : $"descriptor {pos}: INDIRECT without VIRTIO_F_INDIRECT_DESC (§2.8.19)");
                        return -1;
                    }
                    uint len = DescLen(pos);
                    if ((flags & WRITE) != 0)
                    {
                        sawWritable = true;
                        if (len > 0)
                        {
                            if (Ptr<byte>(DescAddr(pos), len) == null) return -1;
                            b.Writable.Add((DescAddr(pos), len));
                        }
                    }
                    else if (sawWritable) { Errors.Add($"descriptor {pos}: device-readable after device-writable (§2.8.17)"); return -1; }
                    else if (len > 0 && Ptr<byte>(DescAddr(pos), len) == null) return -1;
                    b.Id = DescId(pos);                       // §2.8.6: the last descriptor's id counts
                    if (++pos == Size) { pos = 0; wrap = !wrap; AvailLaps++; }
                    if ((flags & NEXT) == 0) break;
                }
                foreach (var p in Pending)
                    if (p.Id == b.Id) { Errors.Add($"buffer id {b.Id} made available while still in flight"); return -1; }
                MaxChain = Math.Max(MaxChain, b.Slots);
                AvailPos = pos;
                AvailWrap = wrap;
                Pending.Add(b);
                Taken++;
                taken++;
            }
            return taken;
        }

        // ---- returning used buffers ------------------------------------------------------------

        // Write a used descriptor at the used position and skip `slots` slots (for tests that
        // play a hostile device by hand; Process uses it too).
        public void PushUsed(uint id, uint len, uint slots = 1)
        {
            byte* d = (byte*)(Desc + 16 * UsedPos);
            *(ushort*)(d + 12) = (ushort)id;
            *(uint*)(d + 8) = len;
            Interlocked.MemoryBarrier();              // id and len before the flags that publish them
            ushort flags = (ushort)((UsedWrap ? AVAIL | USED : 0) | (len > 0 ? WRITE : 0));
            Volatile.Write(ref *(ushort*)(d + 14), flags);
            UsedPos += slots;
            while (UsedPos >= Size) { UsedPos -= Size; UsedWrap = !UsedWrap; UsedLaps++; }   // a hostile skip may exceed a lap
        }

        public override int Process(int max = int.MaxValue)
        {
            if (!RingInDriverMemory()) return -1;
            if ((*(uint*)Device) != _deviceEventWritten) { Errors.Add("driver wrote the device event suppression structure"); return -1; }
            if (TakeAvailable() < 0) return -1;
            uint oldPos = UsedPos;
            bool oldWrap = UsedWrap;
            int done = 0;
            while (done < max && Pending.Count > HoldBack)
            {
                int k = Pick != null ? Pick(Pending.Count) : 0;
                var b = Pending[k];
                Pending.RemoveAt(k);
                uint written = 0;
                foreach (var (addr, len) in b.Writable)
                    written += Fill != null ? Fill((IntPtr)(long)addr, len) : len;
                (uint id, uint ulen) = MangleUsed != null ? MangleUsed(b.Id, written) : (b.Id, written);
                PushUsed(id, ulen, b.Slots);
                Completions++;
                done++;
            }
            if (done > 0 && ShouldNotify(oldPos, oldWrap)) Interrupts++;
            return done;
        }

        // §2.8.10: after writing used descriptors, consult the driver's structure.
        private bool ShouldNotify(uint oldPos, bool oldWrap)
        {
            Interlocked.MemoryBarrier();
            uint snap = Volatile.Read(ref *(uint*)Driver);
            ushort offWrap = (ushort)snap, flags = (ushort)(snap >> 16);
            switch (flags)
            {
                case FLAG_ENABLE: return true;
                case FLAG_DISABLE: return false;
                case FLAG_DESC:
                    if (!EventIdx) { Errors.Add("driver event flags DESC without EVENT_IDX (§2.8.10)"); return true; }
                    return NeedEvent(offWrap, oldPos, oldWrap, UsedPos, UsedWrap, Size);
            }
            Errors.Add($"driver event flags 0x{flags:x} reserved (§2.8.14)");
            return true;
        }
    }
}
