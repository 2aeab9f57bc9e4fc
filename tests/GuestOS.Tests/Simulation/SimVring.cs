using System;
using System.Collections.Generic;
using GuestOS.Hal.Hosted;

namespace GuestOS.Tests.Simulation
{
    // The device side of one split virtqueue (virtio 1.2 §2.7): avail->idx, then the ring
    // slot, then the descriptor chain; writing the buffers, the used element, then used->idx.
    public sealed unsafe class SimVring : SimRing
    {
        public ushort LastAvail;       // next avail entry the device will take
        public ushort UsedIdx;         // device's used->idx

        public SimVring(List<string> errors) : base(errors) { }

        protected override (string, ulong, ulong)[] Areas => new[]
        {
            ("descriptor table", Desc, 16UL * Size), ("available ring", Driver, 6 + 2UL * Size), ("used ring", Device, UsedBytes),
        };
        private ulong UsedBytes => 6 + 8UL * Size;

        public override bool HasWork => AvailIdx != LastAvail;

        public ushort AvailFlags => *(ushort*)Driver;
        public ushort AvailIdx => *(ushort*)(Driver + 2);
        public ushort AvailRing(uint slot) => *(ushort*)(Driver + 4 + 2 * slot);
        public ushort UsedEvent => *(ushort*)(Driver + 4 + 2 * Size);
        public ushort UsedFlags { get => *(ushort*)Device; set => DeviceWrite(0, value, 2); }
        public ushort AvailEvent { get => *(ushort*)(Device + 4 + 8 * Size); set => DeviceWrite(4 + 8 * Size, value, 2); }
        public ushort PublishedUsedIdx => *(ushort*)(Device + 2);

        // §2.7.8: the used ring "is only written to by the device". Every device store goes
        // through here and into a copy, so a store by anyone else shows up as a difference.
        private byte[] _usedWritten;
        private byte[] UsedWritten => _usedWritten ??= new byte[UsedBytes];   // zero, as handed over at enable

        private void DeviceWrite(uint offset, uint value, int bytes)
        {
            for (int i = 0; i < bytes; i++) UsedWritten[offset + i] = (byte)(value >> (8 * i));
            if (bytes == 4) *(uint*)(Device + offset) = value;
            else System.Threading.Volatile.Write(ref *(ushort*)(Device + offset), (ushort)value);
        }

        // The first byte of the used ring that differs from what the device wrote, or -1.
        private int UsedRingChangedAt()
        {
            var now = new ReadOnlySpan<byte>((byte*)Device, (int)UsedBytes);
            for (int i = 0; i < now.Length; i++) if (now[i] != UsedWritten[i]) return i;
            return -1;
        }

        // Reference rule of §2.7.10 written independently of the driver's formula: moving an
        // index from old to new crosses `event` iff event is one of old, old+1, ..., new-1 (mod 2^16).
        public static bool NeedEvent(ushort ev, ushort newIdx, ushort old)
        {
            for (ushort x = old; x != newIdx; x++) if (x == ev) return true;
            return false;
        }

        // Write a used element and publish it (for tests that play a hostile device by hand).
        public void PushUsed(uint id, uint len)
        {
            uint at = 4 + 8 * (UsedIdx & (Size - 1));
            DeviceWrite(at, id, 4);
            DeviceWrite(at + 4, len, 4);
            System.Threading.Interlocked.MemoryBarrier();
            UsedIdx++;
            DeviceWrite(2, UsedIdx, 2);
        }

        // Take every available chain, fill it, return it in the used ring.
        public override int Process(int max = int.MaxValue)
        {
            if (!RingInDriverMemory()) return -1;
            int changed = UsedRingChangedAt();
            if (changed >= 0)
            {
                Errors.Add($"used ring +0x{changed:x} changed by the driver (0x{UsedWritten[changed]:x2} -> 0x{((byte*)Device)[changed]:x2}): only the device writes it (§2.7.8)");
                return -1;
            }
            int done = 0;
            ushort oldUsed = UsedIdx;
            while (done < max)
            {
                ushort availIdx = AvailIdx;
                if (availIdx == LastAvail)
                {
                    if (!EventIdx) break;
                    // §2.7.10: ask to be notified at the next entry, then re-check so an entry
                    // added meanwhile is not missed.
                    AvailEvent = LastAvail;
                    System.Threading.Interlocked.MemoryBarrier();
                    if (AvailIdx == LastAvail) break;
                    continue;
                }
                if ((ushort)(availIdx - LastAvail) > Size)
                {
                    Errors.Add($"avail idx {availIdx} is more than {Size} ahead of {LastAvail}");
                    return -1;
                }
                System.Threading.Interlocked.MemoryBarrier();   // ring slot after idx
                uint head = AvailRing((uint)(LastAvail & (Size - 1)));
                if (head >= Size) { Errors.Add($"avail ring head {head} out of range"); return -1; }
                // Check the whole chain before writing into any of it.
                var writable = new List<(IntPtr buf, uint len)>();
                bool sawWritable = false;
                uint i = head;
                int n = 0;
                while (true)
                {
                    if (++n > Size) { Errors.Add("descriptor chain loops (§2.7.5.2)"); return -1; }
                    ulong* d = (ulong*)(Desc + 16 * i);
                    ulong addr = d[0];
                    uint len = *(uint*)((byte*)d + 8);
                    ushort flags = *(ushort*)((byte*)d + 12);
                    ushort next = *(ushort*)((byte*)d + 14);
                    if ((flags & 4) != 0)
                    {
                        Errors.Add(IndirectDesc ? $"descriptor {i}: INDIRECT (negotiated, but this simulation reads no indirect tables)"
                                                : $"descriptor {i}: INDIRECT without VIRTIO_F_INDIRECT_DESC (§2.7.5.3.1)");
                        return -1;
                    }
                    if ((flags & 2) != 0) sawWritable = true;
                    else if (sawWritable) { Errors.Add($"descriptor {i}: device-readable after device-writable (§2.7.5.2)"); return -1; }
                    if (len > 0)
                    {
                        byte* buf = Ptr<byte>(addr, len);
                        if (buf == null) return -1;
                        if ((flags & 2) != 0) writable.Add(((IntPtr)buf, len));
                    }
                    if ((flags & 1) == 0) break;
                    if (next >= Size) { Errors.Add($"descriptor next {next} out of range"); return -1; }
                    i = next;
                }
                uint written = 0;
                foreach (var (buf, len) in writable) written += Fill != null ? Fill(buf, len) : len;
                MaxChain = Math.Max(MaxChain, n);
                (uint id, uint ulen) = MangleUsed != null ? MangleUsed(head, written) : (head, written);
                PushUsed(id, ulen);
                LastAvail++;
                Completions++;
                done++;
            }
            if (done > 0)
            {
                // §2.7.7 / §2.7.8: notify the driver?
                System.Threading.Interlocked.MemoryBarrier();
                ushort flags = AvailFlags;
                // §2.7.7.1: with EVENT_IDX the driver MUST set flags to 0, without it to 0 or 1.
                if (flags > (EventIdx ? 0 : 1))
                    Errors.Add($"avail flags 0x{flags:x} invalid: the driver sets 0{(EventIdx ? " with EVENT_IDX" : " or 1 without EVENT_IDX")} (§2.7.7.1)");
                bool notify = EventIdx ? NeedEvent(UsedEvent, UsedIdx, oldUsed) : (flags & 1) == 0;
                if (notify) Interrupts++;
            }
            return done;
        }
    }
}
