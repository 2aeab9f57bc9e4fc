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

        public override bool Valid()
        {
            return Ptr<byte>(Desc, 16UL * Size) != null && Ptr<byte>(Driver, 6 + 2UL * Size) != null
                && Ptr<byte>(Device, 6 + 8UL * Size) != null;
        }

        public override bool HasWork => AvailIdx != LastAvail;

        public ushort AvailFlags => *(ushort*)Driver;
        public ushort AvailIdx => *(ushort*)(Driver + 2);
        public ushort AvailRing(uint slot) => *(ushort*)(Driver + 4 + 2 * slot);
        public ushort UsedEvent => *(ushort*)(Driver + 4 + 2 * Size);
        public ushort UsedFlags { get => *(ushort*)Device; set => *(ushort*)Device = value; }
        public ushort AvailEvent { get => *(ushort*)(Device + 4 + 8 * Size); set => *(ushort*)(Device + 4 + 8 * Size) = value; }
        public ushort PublishedUsedIdx => *(ushort*)(Device + 2);

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
            uint* e = (uint*)(Device + 4 + 8 * (UsedIdx & (Size - 1)));
            e[0] = id;
            e[1] = len;
            System.Threading.Interlocked.MemoryBarrier();
            UsedIdx++;
            *(ushort*)(Device + 2) = UsedIdx;
        }

        // Take every available chain, fill it, return it in the used ring.
        public override int Process(int max = int.MaxValue)
        {
            if (!Valid()) return -1;
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
                uint written = 0;
                uint i = head;
                int n = 0;
                while (true)
                {
                    if (++n > Size) { Errors.Add("descriptor chain loops"); return -1; }
                    ulong* d = (ulong*)(Desc + 16 * i);
                    ulong addr = d[0];
                    uint len = *(uint*)((byte*)d + 8);
                    ushort flags = *(ushort*)((byte*)d + 12);
                    ushort next = *(ushort*)((byte*)d + 14);
                    if ((flags & 2) != 0 && len > 0)
                    {
                        byte* buf = Ptr<byte>(addr, len);
                        if (buf == null) return -1;
                        written += Fill != null ? Fill((IntPtr)buf, len) : len;
                    }
                    if ((flags & 1) == 0) break;
                    if (next >= Size) { Errors.Add($"descriptor next {next} out of range"); return -1; }
                    i = next;
                }
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
                bool notify = EventIdx ? NeedEvent(UsedEvent, UsedIdx, oldUsed) : (AvailFlags & 1) == 0;
                if (notify) Interrupts++;
            }
            return done;
        }
    }
}
