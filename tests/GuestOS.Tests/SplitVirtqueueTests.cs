using System;
using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    public sealed class CountingNotifier : VirtqueueNotifier
    {
        public int Count;
        public override bool Notify(ushort queueIndex) { Count++; return true; }
    }

    // The ring on its own: driver side = SplitVirtqueue, device side = SimVring on the same memory.
    public sealed unsafe class SplitVirtqueueTests : HalTest
    {
        private readonly List<string> _deviceErrors = new List<string>();

        private (SplitVirtqueue vq, SimVring dev, CountingNotifier n) Make(uint num, bool eventIdx)
        {
            var n = new CountingNotifier();
            var vq = SplitVirtqueue.vring_create_virtqueue(0, num, eventIdx, n, out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            var dev = new SimVring(_deviceErrors) { Desc = vq.DescPhys, Driver = vq.AvailPhys, Device = vq.UsedPhys, Size = vq.Num, EventIdx = eventIdx };
            return (vq, dev, n);
        }

        private static DmaBuffer Buffer(uint size = 64) => Dma.AllocCoherent(size);

        [Theory]
        // event, new, old, notify?
        [InlineData(65534, 2, 65534, true)]   // the classic wrap case
        [InlineData(65535, 2, 65534, true)]
        [InlineData(0, 2, 65534, true)]
        [InlineData(1, 2, 65534, true)]
        [InlineData(2, 2, 65534, false)]      // event == new: not passed yet
        [InlineData(65533, 2, 65534, false)]  // already behind old
        [InlineData(0, 1, 0, true)]
        [InlineData(1, 1, 0, false)]
        [InlineData(5, 5, 5, false)]          // nothing published
        [InlineData(65535, 0, 65535, true)]
        [InlineData(100, 101, 0, true)]
        [InlineData(101, 101, 0, false)]
        public void NeedEventIsWrapSafe(int ev, int newIdx, int old, bool notify)
        {
            Assert.Equal(notify, SplitVirtqueue.vring_need_event((ushort)ev, (ushort)newIdx, (ushort)old));
            Assert.Equal(notify, SimVring.NeedEvent((ushort)ev, (ushort)newIdx, (ushort)old));
        }

        [Fact]
        public void NeedEventAgreesWithTheSpecDefinitionEverywhere()
        {
            var rnd = new Random(7);
            for (int i = 0; i < 200000; i++)
            {
                ushort old = (ushort)rnd.Next(65536);
                ushort newIdx = (ushort)(old + rnd.Next(0, 300));
                ushort ev = rnd.Next(2) == 0 ? (ushort)(old + rnd.Next(-300, 300)) : (ushort)rnd.Next(65536);
                Assert.Equal(SimVring.NeedEvent(ev, newIdx, old), SplitVirtqueue.vring_need_event(ev, newIdx, old));
            }
        }

        [Theory]
        [InlineData(8u, 0xc0UL, 0x106UL)]
        [InlineData(4u, 0x80UL, 0xa6UL)]
        [InlineData(256u, 0x1240UL, 0x1a46UL)]
        public void LayoutMatchesLinuxVringInit(uint num, ulong usedOff, ulong size)
        {
            Assert.Equal(usedOff, SplitVirtqueue.UsedOffset(num));
            Assert.Equal(size, SplitVirtqueue.vring_size(num));
        }

        [Fact]
        public void KickDecisionsFollowAvailEventAcrossTheWrap()
        {
            var (vq, dev, n) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer();
            // Run the indices up to 65534 with one buffer at a time.
            for (int i = 0; i < 65534; i++)
            {
                Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, 1));
                Assert.True(vq.virtqueue_kick_prepare());          // device idle, avail_event == old
                Assert.Equal(1, dev.Process());
                Assert.True(vq.virtqueue_get_buf(out _, out uint len, out _));
                Assert.Equal(64u, len);
            }
            Assert.Equal((ushort)65534, vq.AvailIdxShadow);
            Assert.Equal((ushort)65534, dev.AvailEvent);

            // Four adds straddling the wrap: old = 65534, new = 2, event = 65534 -> notify.
            for (int i = 0; i < 4; i++) Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, (ulong)i));
            Assert.Equal((ushort)2, vq.AvailIdxShadow);
            Assert.True(vq.virtqueue_kick_prepare());

            // Device has not run yet (avail_event still 65534): more adds need no notify.
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, 9));
            Assert.False(vq.virtqueue_kick_prepare());

            // Device suppresses until index 4: adding up to 4 is silent, passing it is not.
            dev.AvailEvent = 4;
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, 10));   // 3 -> 4
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, 11));   // 4 -> 5
            Assert.True(vq.virtqueue_kick_prepare());
            Assert.Equal(7, dev.Process());
            Assert.Empty(_deviceErrors);
        }

        [Fact]
        public void WithoutEventIdxTheNoNotifyFlagDecides()
        {
            var (vq, dev, n) = Make(4, eventIdx: false);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 1);
            Assert.True(vq.virtqueue_kick_prepare());
            dev.UsedFlags = SplitVirtqueue.VRING_USED_F_NO_NOTIFY;
            vq.virtqueue_add_inbuf(b.Phys, 64, 2);
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.True(vq.virtqueue_kick() );           // nothing to notify, but not broken
            Assert.Equal(0, n.Count);
        }

        // Each barrier is checked where it stands, not only counted: when it runs, what the
        // driver stored before it is already in ring memory, and what the driver may load only
        // after it is put there by the (test's) device at that very moment, so a load moved
        // above the barrier sees the stale value and the step fails.
        [Fact]
        public void BarriersAreIssuedWhereLinuxHasThem()
        {
            var (vq, dev, _) = Make(4, eventIdx: true);
            DmaBuffer b = Buffer(128);
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, 1));    // head 0, slot 0
            BarrierLog.Reset();

            // add: descriptor and ring slot written, then dma_wmb, then avail->idx.
            BarrierLog.OnBarrier = k =>
            {
                Assert.Equal(BarrierKind.dma_wmb, k);
                Assert.Equal((b.Phys + 64, (ushort)1, (ushort)1), (*(ulong*)(dev.Desc + 16), dev.AvailRing(1), dev.AvailIdx));
            };
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys + 64, 64, 2));
            Assert.Equal(2, dev.AvailIdx);

            // kick_prepare: avail->idx stored, then virt_mb, then avail_event loaded. Before
            // the barrier the device wants no kick (event 7), from it on a kick at 1.
            dev.AvailEvent = 7;
            BarrierLog.OnBarrier = k =>
            {
                Assert.Equal((BarrierKind.virt_mb, (ushort)2), (k, dev.AvailIdx));
                dev.AvailEvent = 1;
            };
            Assert.True(vq.virtqueue_kick_prepare());

            // get_buf: used->idx loaded, then dma_rmb, then the element. Before the barrier the
            // element is garbage (id 3, never offered); the device writes the real one there.
            *(uint*)(dev.Device + 4) = 3;
            *(uint*)(dev.Device + 8) = 999;
            *(ushort*)(dev.Device + 2) = 1;
            BarrierLog.OnBarrier = k =>
            {
                if (k == BarrierKind.dma_rmb) { *(uint*)(dev.Device + 4) = 0; *(uint*)(dev.Device + 8) = 64; return; }
                Assert.Equal((BarrierKind.virt_mb, (ushort)1), (k, dev.UsedEvent));   // used_event stored, then virt_mb
            };
            Assert.True(vq.virtqueue_get_buf(out ulong token, out uint len, out DriverError e), e.ToString());
            Assert.Equal((1UL, 64u), (token, len));
            Assert.Equal((1L, 2L, 1L), (BarrierLog.Get(BarrierKind.dma_wmb), BarrierLog.Get(BarrierKind.virt_mb), BarrierLog.Get(BarrierKind.dma_rmb)));
        }

        [Fact]
        public void IndicesWrapPastSixtyFiveThousandWithManyInFlight()
        {
            var (vq, dev, n) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer(8 * 64);
            ulong next = 0, expect = 0;
            const int total = 70001;
            while (expect < total)
            {
                while (vq.NumFree > 0 && next < total)
                {
                    Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys + 64 * (next % 8), 64, next));
                    next++;
                }
                if (vq.virtqueue_kick_prepare()) vq.virtqueue_notify();
                dev.Process(3);                                        // partial progress
                while (vq.virtqueue_get_buf(out ulong token, out uint len, out DriverError err))
                {
                    Assert.Equal(expect++, token);                     // in order, none lost or doubled
                    Assert.Equal(64u, len);
                }
            }
            Assert.Equal(8u, vq.NumFree);
            Assert.Equal((ushort)(total % 65536), vq.AvailIdxShadow);
            Assert.Equal((ushort)(total % 65536), vq.LastUsedIdx);
            Assert.False(vq.Broken);
            Assert.Empty(_deviceErrors);
        }

        [Fact]
        public void ChainsOfReadableThenWritableBuffers()
        {
            var (vq, dev, _) = Make(8, eventIdx: false);
            DmaBuffer b = Buffer(4096);
            ulong* addr = stackalloc ulong[5];
            uint* len = stackalloc uint[5];
            for (int i = 0; i < 5; i++) { addr[i] = b.Phys + (ulong)(i * 512); len[i] = (uint)(100 + i); }
            Assert.Equal(DriverError.Ok, vq.virtqueue_add(addr, len, 3, 2, 42));
            Assert.Equal(3u, vq.NumFree);
            Assert.Equal(DriverError.QueueFull, vq.virtqueue_add(addr, len, 3, 2, 43));   // 5 > 3 free
            Assert.Equal(1, dev.Process());
            Assert.Equal(5, dev.MaxChain);
            Assert.True(vq.virtqueue_get_buf(out ulong tok, out uint l, out _));
            Assert.Equal((42UL, 103u + 104u), (tok, l));            // only the two writable ones count
            Assert.Equal(8u, vq.NumFree);
            // The freed descriptors are reusable: eight single buffers fit again.
            for (int i = 0; i < 8; i++) Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 8, (ulong)i));
            Assert.Equal(DriverError.QueueFull, vq.virtqueue_add_inbuf(b.Phys, 8, 9));
        }

        [Fact]
        public void UsedIdOutOfRangeBreaksTheQueue()
        {
            var (vq, dev, _) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);
            dev.PushUsed(8 + 3, 64);
            Assert.False(vq.virtqueue_get_buf(out _, out _, out DriverError e));
            Assert.Equal(DriverError.UsedIdOutOfRange, e);
            Assert.True(vq.Broken);
            Assert.Equal(DriverError.QueueBroken, vq.virtqueue_add_inbuf(b.Phys, 64, 6));
            Assert.False(vq.virtqueue_get_buf(out _, out _, out e));
            Assert.Equal(DriverError.QueueBroken, e);
            Assert.Contains("used id out of range (11, queue size 8)", LogText);
        }

        [Fact]
        public void UsedIdNotOutstandingIsRejected()
        {
            var (vq, dev, _) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);     // head 0
            dev.PushUsed(1, 64);                       // never made available
            Assert.False(vq.virtqueue_get_buf(out _, out _, out DriverError e));
            Assert.Equal(DriverError.UsedIdNotOutstanding, e);

            // Completing the same id twice is the same error.
            var (vq2, dev2, _) = Make(8, eventIdx: true);
            vq2.virtqueue_add_inbuf(b.Phys, 64, 5);
            dev2.Process();
            Assert.True(vq2.virtqueue_get_buf(out _, out _, out _));
            dev2.PushUsed(0, 64);
            Assert.False(vq2.virtqueue_get_buf(out _, out _, out e));
            Assert.Equal(DriverError.UsedIdNotOutstanding, e);
        }

        [Fact]
        public void UsedLenLargerThanTheBufferIsRejectedAndZeroIsPassedOn()
        {
            var (vq, dev, _) = Make(8, eventIdx: false);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);
            dev.PushUsed(0, 0);
            Assert.True(vq.virtqueue_get_buf(out ulong t, out uint len, out DriverError e));   // the ring does not judge 0
            Assert.Equal((5UL, 0u, DriverError.Ok), (t, len, e));

            vq.virtqueue_add_inbuf(b.Phys, 64, 6);
            dev.PushUsed(0, 65);
            Assert.False(vq.virtqueue_get_buf(out _, out _, out e));
            Assert.Equal(DriverError.UsedLenTooLarge, e);
            Assert.Equal(8u, vq.NumFree);              // descriptors reclaimed, nothing leaked
        }

        [Fact]
        public void UsedIdxRunningAheadOfTheRingIsRejected()
        {
            var (vq, dev, _) = Make(4, eventIdx: false);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);
            *(ushort*)(dev.Device + 2) = 5;            // 5 entries "used" in a ring of 4
            Assert.False(vq.virtqueue_get_buf(out _, out _, out DriverError e));
            Assert.Equal(DriverError.UsedIdxInvalid, e);
        }

        // One chain as offered: its token, head descriptor, descriptor count, writable bytes.
        private sealed class Chain { public ulong Token; public uint Head, Descs, Writable; }

        // A chain of 0-1 readable and 1-2 writable buffers of 1-64 bytes, each buffer a DMA
        // allocation of its own, so each sits between guard pages.
        private static void Offer(SplitVirtqueue vq, SimVring dev, Random rnd, List<Chain> pending, ulong token)
        {
            uint outN = (uint)rnd.Next(0, 2), inN = (uint)rnd.Next(1, 3), writable = 0;
            ulong* addr = stackalloc ulong[3];
            uint* len = stackalloc uint[3];
            for (uint k = 0; k < outN + inN; k++)
            {
                len[k] = (uint)rnd.Next(1, 65);
                addr[k] = Dma.AllocCoherent(len[k]).Phys;
                if (k >= outN) writable += len[k];
            }
            Assert.Equal(DriverError.Ok, vq.virtqueue_add(addr, len, outN, inN, token));
            uint head = dev.AvailRing((uint)(vq.AvailIdxShadow - 1) & (vq.Num - 1));
            pending.Add(new Chain { Token = token, Head = head, Descs = outN + inN, Writable = writable });
        }

        // The device owns nothing but the used ring (§2.7.8), so that is where a hostile one
        // attacks: an id past the queue; an id the driver is not waiting for (a free
        // descriptor, the middle of a chain, a head already given back); a length past what
        // the chain offered; a used->idx more than a queue ahead. After some honest
        // completions comes one such element. The driver must hand back exactly the honest
        // ones, report the bad one as its error instead of consuming it, refuse the queue from
        // then on with its descriptor count exact, and write nothing outside its ring and
        // buffers: every buffer and the ring sit between guard pages (DmaPool), the ring's
        // padding between the available and the used ring is canary too, and the descriptor
        // table and available ring hold exactly what the driver last put there.
        [Fact]
        public void HostileUsedRingNeverMakesTheDriverWriteOutsideItsBuffers()
        {
            var rnd = new Random(3);
            var attacks = new Dictionary<DriverError, int>();
            DriverError[] kinds = { DriverError.UsedIdOutOfRange, DriverError.UsedIdNotOutstanding, DriverError.UsedLenTooLarge, DriverError.UsedIdxInvalid };
            for (int round = 0; round < 400; round++)
            {
                HostedHal.Reset();
                _deviceErrors.Clear();
                var (vq, dev, _) = Make(8, eventIdx: rnd.Next(2) == 0);
                byte* pad = (byte*)vq.AvailPhys + 6 + 2 * 8;                  // after used_event, up to the used ring
                var padding = new Span<byte>(pad, (int)((byte*)vq.UsedPhys - pad));
                padding.Fill(DmaPool.Canary);

                // Honest traffic first, so descriptors and the free list are reused.
                var pending = new List<Chain>();                               // offered, not yet used, in ring order
                ulong token = 0;
                for (int step = rnd.Next(0, 16); step > 0; step--)
                {
                    if (vq.NumFree >= 3 && rnd.Next(3) != 0) { Offer(vq, dev, rnd, pending, token++); continue; }
                    int n = dev.Process(rnd.Next(1, 3));
                    for (int i = 0; i < n; i++)
                    {
                        Assert.True(vq.virtqueue_get_buf(out ulong t, out uint l, out DriverError e), $"round {round}: honest completion not taken ({e})");
                        Assert.Equal((pending[0].Token, pending[0].Writable), (t, l));
                        pending.RemoveAt(0);
                    }
                }
                while (pending.Count == 0 || (vq.NumFree >= 3 && rnd.Next(2) == 0)) Offer(vq, dev, rnd, pending, token++);
                byte[] ringBefore = new Span<byte>((byte*)vq.DescPhys, 16 * 8 + 4 + 2 * 8).ToArray();   // descriptors, avail flags, idx, ring

                // k honest completions, then the attack.
                int k = rnd.Next(0, pending.Count);
                Assert.Equal(k, dev.Process(k));
                var honest = pending.GetRange(0, k);
                var waiting = pending.GetRange(k, pending.Count - k);
                var notWaitedFor = new List<uint>();
                for (uint i = 0; i < 8; i++) if (!waiting.Exists(c => c.Head == i)) notWaitedFor.Add(i);
                DriverError attack = kinds[rnd.Next(kinds.Length)];
                if (attack == DriverError.UsedIdNotOutstanding && notWaitedFor.Count == 0) attack = DriverError.UsedIdOutOfRange;
                Chain reclaimed = null;                                        // the chain a too-large len gives back
                switch (attack)
                {
                    case DriverError.UsedIdOutOfRange:
                        dev.PushUsed(rnd.Next(2) == 0 ? uint.MaxValue : 8 + (uint)rnd.Next(0, 70000), 1);
                        break;
                    case DriverError.UsedIdNotOutstanding:
                        dev.PushUsed(notWaitedFor[rnd.Next(notWaitedFor.Count)], 1);
                        break;
                    case DriverError.UsedLenTooLarge:
                        reclaimed = waiting[rnd.Next(waiting.Count)];
                        dev.PushUsed(reclaimed.Head, rnd.Next(2) == 0 ? reclaimed.Writable + 1 : uint.MaxValue);
                        break;
                    default:                                                   // used->idx 9 or more past the driver
                        *(ushort*)(dev.Device + 2) = (ushort)(dev.UsedIdx + 9 + rnd.Next(0, 65000));
                        honest.Clear();                                        // seen before any element is read
                        break;
                }
                attacks[attack] = attacks.GetValueOrDefault(attack) + 1;

                ushort lastUsed = vq.LastUsedIdx;
                var got = new List<(ulong, uint)>();
                DriverError err = DriverError.Ok;
                for (int i = 0; i < 16 && vq.virtqueue_get_buf(out ulong t, out uint l, out err); i++) got.Add((t, l));
                var expected = honest.ConvertAll(c => (c.Token, c.Writable));
                Assert.True(expected.SequenceEqual(got), $"round {round} ({attack}): handed back [{string.Join(", ", got)}], expected [{string.Join(", ", expected)}]");
                Assert.Equal(attack, err);
                Assert.True(vq.Broken);
                Assert.Equal((ushort)(lastUsed + honest.Count), vq.LastUsedIdx);  // the bad element was not consumed
                Assert.False(vq.virtqueue_get_buf(out _, out _, out err));
                Assert.Equal(DriverError.QueueBroken, err);
                Assert.Equal(DriverError.QueueBroken, vq.virtqueue_add_inbuf(Dma.AllocCoherent(8).Phys, 8, 99));

                // The descriptors the device still holds are exactly the ones not free.
                uint held = 0;
                foreach (var c in attack == DriverError.UsedIdxInvalid ? pending : waiting) if (c != reclaimed) held += c.Descs;
                Assert.Equal(8 - held, vq.NumFree);

                // Nothing written outside the ring and the buffers, nor inside the ring but
                // outside what get_buf may write (used_event).
                Assert.Empty(DmaPool.CheckCanaries());
                Assert.True(padding.IndexOfAnyExcept(DmaPool.Canary) < 0, $"round {round}: ring padding written at +0x{padding.IndexOfAnyExcept(DmaPool.Canary) + (int)(pad - (byte*)vq.DescPhys):x}");
                Assert.Equal(ringBefore, new Span<byte>((byte*)vq.DescPhys, ringBefore.Length).ToArray());
                Assert.Empty(_deviceErrors);
            }
            Assert.All(kinds, kind => Assert.True(attacks.GetValueOrDefault(kind) >= 50, $"{kind}: {attacks.GetValueOrDefault(kind)} rounds"));
        }

        [Fact]
        public void CallbackControlWritesFlagOrUsedEvent()
        {
            var (vq, dev, _) = Make(4, eventIdx: false);
            vq.virtqueue_disable_cb();
            Assert.Equal(1, dev.AvailFlags);
            uint last = vq.virtqueue_enable_cb_prepare();
            Assert.Equal(0, dev.AvailFlags);
            Assert.False(vq.virtqueue_poll(last));

            var (vq2, dev2, _) = Make(4, eventIdx: true);
            DmaBuffer b = Buffer();
            vq2.virtqueue_add_inbuf(b.Phys, 64, 1);
            dev2.Process();
            Assert.True(vq2.virtqueue_get_buf(out _, out _, out _));
            Assert.Equal(1, dev2.UsedEvent);            // "interrupt me at the next one"
            vq2.virtqueue_disable_cb();
            Assert.Equal((ushort)(vq2.LastUsedIdx - 1), dev2.UsedEvent);   // parked one behind: never crossed
            Assert.Equal(0, dev2.AvailFlags);           // with EVENT_IDX the flag is not used
            vq2.virtqueue_add_inbuf(b.Phys, 64, 2);
            dev2.Process();
            Assert.False(vq2.virtqueue_enable_cb());    // something already arrived: caller must poll
        }

        [Fact]
        public void RingShrinksWhenDmaMemoryIsShort()
        {
            // One page of DMA memory left: 256 entries need 0x1a46 bytes, 128 need 0xd46.
            DmaPool.Limit = 4096;
            var vq = SplitVirtqueue.vring_create_virtqueue(0, 256, true, new CountingNotifier(), out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            Assert.Equal(128u, vq.Num);
            DmaPool.FailAllocations = true;
            Assert.Null(SplitVirtqueue.vring_create_virtqueue(0, 8, true, new CountingNotifier(), out e));
            Assert.Equal(DriverError.OutOfDmaMemory, e);
            Assert.Null(SplitVirtqueue.vring_create_virtqueue(0, 12, true, new CountingNotifier(), out e));
            Assert.Equal(DriverError.QueueSizeInvalid, e);
        }
    }
}
