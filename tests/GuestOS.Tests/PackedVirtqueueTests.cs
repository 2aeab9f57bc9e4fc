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
    // The packed ring on its own: driver side = PackedVirtqueue, device side = SimPackedVring
    // on the same memory.
    public sealed unsafe class PackedVirtqueueTests : HalTest
    {
        private readonly List<string> _deviceErrors = new List<string>();
        private const ushort AVAIL = SimPackedVring.AVAIL, USED = SimPackedVring.USED;

        private (PackedVirtqueue vq, SimPackedVring dev, CountingNotifier n) Make(uint num, bool eventIdx)
        {
            var n = new CountingNotifier();
            var vq = PackedVirtqueue.vring_create_virtqueue(0, num, eventIdx, n, out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            var dev = new SimPackedVring(_deviceErrors) { Desc = vq.DescAreaPhys, Driver = vq.DriverAreaPhys, Device = vq.DeviceAreaPhys, Size = vq.Num, EventIdx = eventIdx };
            return (vq, dev, n);
        }

        private static DmaBuffer Buffer(uint size = 64) => Dma.AllocCoherent(size);

        // One single-buffer round trip; returns the token and length the driver got back.
        private static (ulong token, uint len) RoundTrip(PackedVirtqueue vq, SimPackedVring dev, ulong addr, uint len, ulong token)
        {
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(addr, len, token));
            vq.virtqueue_kick_prepare();
            Assert.Equal(1, dev.Process());
            Assert.True(vq.virtqueue_get_buf(out ulong t, out uint l, out DriverError e));
            Assert.Equal(DriverError.Ok, e);
            return (t, l);
        }

        [Theory]
        [InlineData(8u)]
        [InlineData(256u)]
        [InlineData(6u)]          // not a power of 2: fine for a packed ring (§2.8)
        [InlineData(1u)]
        public void LayoutIsDescriptorRingThenDriverThenDeviceEventSuppression(uint num)
        {
            var (vq, _, _) = Make(num, eventIdx: true);
            Assert.Equal(num, vq.Num);
            Assert.Equal(0UL, vq.DescAreaPhys % 16);                          // §2.8.10.1 alignment 16 / 4 / 4
            Assert.Equal(vq.DescAreaPhys + 16 * num, vq.DriverAreaPhys);
            Assert.Equal(vq.DriverAreaPhys + 4, vq.DeviceAreaPhys);
            Assert.Equal(16UL * num + 8, PackedVirtqueue.vring_size_packed(num));
        }

        [Fact]
        public void SizesUpTo32768OfAnyShapeAreAcceptedAndTheRingShrinksWhenMemoryIsShort()
        {
            foreach (uint bad in new uint[] { 0, 32769, 65535 })
            {
                Assert.Null(PackedVirtqueue.vring_create_virtqueue(0, bad, true, new CountingNotifier(), out DriverError e));
                Assert.Equal(DriverError.QueueSizeInvalid, e);
            }
            foreach (uint good in new uint[] { 3, 100, 1000, 32768 })
            {
                var vq = PackedVirtqueue.vring_create_virtqueue(0, good, true, new CountingNotifier(), out DriverError e);
                Assert.Equal((DriverError.Ok, good), (e, vq.Num));
                vq.vring_del_virtqueue();
            }
            Assert.Equal(0, DmaPool.LiveCount);                              // del frees the ring
            DmaPool.Limit = 4096;                                              // 300 entries need 4808 bytes, 150 need 2408
            var small = PackedVirtqueue.vring_create_virtqueue(0, 300, true, new CountingNotifier(), out DriverError err);
            Assert.Equal((DriverError.Ok, 150u), (err, small.Num));
        }

        [Theory]
        [InlineData(8u, false)]
        [InlineData(5u, true)]
        [InlineData(7u, false)]
        [InlineData(1u, true)]
        public void WrapCountersFlipAfterEveryLapOnBothSides(uint num, bool eventIdx)
        {
            var (vq, dev, _) = Make(num, eventIdx);
            DmaBuffer b = Buffer();
            const int laps = 5;
            for (int lap = 0; lap < laps; lap++)
            {
                bool wrap = lap % 2 == 0;                                      // §2.8.1: both start at 1
                for (uint pos = 0; pos < num; pos++)
                {
                    Assert.Equal((ushort)pos, vq.NextAvailIdx);
                    Assert.Equal(wrap, vq.AvailWrapCounter);
                    Assert.Equal((ushort)(pos | (wrap ? 0x8000u : 0u)), vq.LastUsedIdx);   // off_wrap format
                    Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, (ulong)(lap * 100 + pos)));
                    // Available in this lap: AVAIL == wrap counter, USED == its inverse.
                    ushort f = dev.DescFlags(pos);
                    Assert.Equal(wrap ? AVAIL : USED, (ushort)(f & (AVAIL | USED)));
                    vq.virtqueue_kick_prepare();
                    Assert.Equal(1, dev.Process());
                    // Used in this lap: AVAIL == USED == the device's wrap counter.
                    Assert.Equal(wrap ? AVAIL | USED : 0, dev.DescFlags(pos) & (AVAIL | USED));
                    Assert.True(vq.virtqueue_get_buf(out ulong t, out uint l, out _));
                    Assert.Equal(((ulong)(lap * 100 + pos), 64u), (t, l));
                    Assert.False(vq.virtqueue_more_used());
                }
            }
            Assert.Equal(laps % 2 == 0, vq.AvailWrapCounter);
            Assert.Equal((long)laps, dev.UsedLaps);
            Assert.Equal((long)laps, dev.AvailLaps);
            Assert.Equal(num, vq.NumFree);
            Assert.Empty(_deviceErrors);
        }

        [Theory]
        [InlineData(8u)]
        [InlineData(5u)]
        [InlineData(12u)]
        public void FullRingBatchesAndChainsStraddlingTheEndRunManyLaps(uint num)
        {
            var (vq, dev, _) = Make(num, eventIdx: true);
            DmaBuffer b = Buffer(4096);
            var rnd = new Random((int)num);
            var expect = new Queue<(ulong token, uint len)>();
            ulong token = 0;
            int straddling = 0;
            ulong* addr = stackalloc ulong[4];
            uint* len = stackalloc uint[4];
            for (int round = 0; round < 200; round++)
            {
                // Fill the ring with chains of 1..3 descriptors: some straddle the end of the ring.
                while (true)
                {
                    uint outN = (uint)rnd.Next(0, 2), inN = (uint)rnd.Next(1, 3);
                    uint writable = 0;
                    for (uint k = 0; k < outN + inN; k++)
                    {
                        addr[k] = b.Phys + 256 * k;
                        len[k] = (uint)rnd.Next(1, 200);
                        if (k >= outN) writable += len[k];
                    }
                    uint pos = vq.NextAvailIdx;
                    DriverError e = vq.virtqueue_add(addr, len, outN, inN, token);
                    if (e == DriverError.QueueFull) { Assert.True(vq.NumFree < outN + inN); break; }
                    Assert.Equal(DriverError.Ok, e);
                    if (pos + outN + inN > num) straddling++;                  // runs past slot num - 1 into the next lap
                    expect.Enqueue((token++, writable));
                }
                vq.virtqueue_kick_prepare();
                dev.Process();
                while (vq.virtqueue_get_buf(out ulong t, out uint l, out DriverError err))
                    Assert.Equal(expect.Dequeue(), (t, l));
                Assert.Empty(expect);
                Assert.Equal(num, vq.NumFree);
            }
            Assert.True(dev.UsedLaps >= 100, $"only {dev.UsedLaps} laps");
            Assert.True(dev.MaxChain >= 2);
            Assert.True(straddling >= 20, $"only {straddling} chains straddled the end of the ring");
            Assert.Empty(_deviceErrors);                                       // every chain descriptor was available in its own lap
        }

        [Fact]
        public void ChainsOfReadableThenWritableBuffersReportOnlyWritableBytes()
        {
            var (vq, dev, _) = Make(8, eventIdx: false);
            DmaBuffer b = Buffer(4096);
            ulong* addr = stackalloc ulong[5];
            uint* len = stackalloc uint[5];
            for (int i = 0; i < 5; i++) { addr[i] = b.Phys + (ulong)(i * 512); len[i] = (uint)(100 + i); }
            Assert.Equal(DriverError.Ok, vq.virtqueue_add(addr, len, 3, 2, 42));
            Assert.Equal(3u, vq.NumFree);
            Assert.Equal(DriverError.QueueFull, vq.virtqueue_add(addr, len, 3, 2, 43));   // 5 > 3 free slots
            // §2.8.6: NEXT on all but the last, WRITE on the writable ones, one buffer id for all.
            Assert.Equal(new[] { 1, 1, 1, 3, 2 }, Enumerable.Range(0, 5).Select(i => dev.DescFlags((uint)i) & 7));
            Assert.All(Enumerable.Range(0, 5), i => Assert.Equal(dev.DescId(0), dev.DescId((uint)i)));
            Assert.Equal(1, dev.Process());
            Assert.Equal(5, dev.MaxChain);
            Assert.Equal(5u, dev.UsedPos);                                     // the device skipped the chain
            Assert.True(vq.virtqueue_get_buf(out ulong tok, out uint l, out _));
            Assert.Equal((42UL, 103u + 104u), (tok, l));
            Assert.Equal(5, vq.LastUsedIdx & 0x7FFF);                          // and so did the driver
            Assert.Equal(8u, vq.NumFree);
        }

        [Fact]
        public void BufferIdsAreIndependentOfRingPositionsAndReusedOutOfOrder()
        {
            var (vq, dev, _) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer(8 * 64);
            for (ulong t = 0; t < 5; t++) Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys + 64 * t, 64, t));
            Assert.Equal(new ushort[] { 0, 1, 2, 3, 4 }, Enumerable.Range(0, 5).Select(i => dev.DescId((uint)i)));
            dev.Pick = n => n - 1;                                             // newest first
            Assert.Equal(5, dev.Process());
            var got = new List<ulong>();
            while (vq.virtqueue_get_buf(out ulong t, out _, out _)) got.Add(t);
            Assert.Equal(new ulong[] { 4, 3, 2, 1, 0 }, got);
            // Freed in the order 4, 3, 2, 1, 0: the free list hands out 0 first, at ring slot 5.
            for (ulong t = 10; t < 13; t++) Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, t));
            Assert.Equal(new ushort[] { 0, 1, 2 }, new[] { dev.DescId(5), dev.DescId(6), dev.DescId(7) });
            Assert.Empty(_deviceErrors);
        }

        [Theory]
        [InlineData(8u, 1)]
        [InlineData(6u, 2)]
        [InlineData(11u, 3)]
        public void RandomOutOfOrderCompletionsWithChainsLoseNothing(uint num, int seed)
        {
            var (vq, dev, _) = Make(num, eventIdx: seed % 2 == 0);
            DmaBuffer b = Buffer(4096);
            var rnd = new Random(seed);
            dev.Pick = n => rnd.Next(n);
            var outstanding = new Dictionary<ulong, uint>();                   // token -> writable bytes
            ulong* addr = stackalloc ulong[3];
            uint* len = stackalloc uint[3];
            ulong token = 0;
            long completed = 0;
            for (int step = 0; step < 3000; step++)
            {
                int adds = rnd.Next(0, 4);
                for (int a = 0; a < adds; a++)
                {
                    uint inN = (uint)rnd.Next(1, 4);
                    for (uint k = 0; k < inN; k++) { addr[k] = b.Phys + 512 * k; len[k] = (uint)rnd.Next(1, 300); }
                    DriverError e = vq.virtqueue_add(addr, len, 0, inN, token);
                    if (e == DriverError.QueueFull) break;
                    Assert.Equal(DriverError.Ok, e);
                    outstanding[token++] = len[0] + (inN > 1 ? len[1] : 0) + (inN > 2 ? len[2] : 0);
                }
                if (vq.virtqueue_kick_prepare()) vq.virtqueue_notify();
                dev.HoldBack = rnd.Next(0, 3);                                 // later buffers overtake held ones
                dev.Process(rnd.Next(0, 4));
                while (vq.virtqueue_get_buf(out ulong t, out uint l, out DriverError err))
                {
                    Assert.True(outstanding.Remove(t, out uint w), $"token {t} returned twice or never added");
                    Assert.Equal(w, l);
                    completed++;
                }
                Assert.False(vq.Broken);
            }
            dev.HoldBack = 0;
            dev.Process();
            while (vq.virtqueue_get_buf(out ulong t, out _, out _)) { Assert.True(outstanding.Remove(t)); completed++; }
            Assert.Empty(outstanding);
            Assert.Equal(num, vq.NumFree);
            Assert.True(dev.UsedLaps > 20);
            Assert.Empty(_deviceErrors);                                       // includes "id made available while in flight"
        }

        // ---- available buffer notifications: the device event suppression structure ----------

        [Fact]
        public void DeviceEventFlagsEnableAndDisableDecideTheKick()
        {
            var (vq, dev, n) = Make(4, eventIdx: false);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 1);
            Assert.True(vq.virtqueue_kick_prepare());                          // zeroed structure: ENABLE
            dev.SetDeviceEvent(SimPackedVring.FLAG_DISABLE);
            vq.virtqueue_add_inbuf(b.Phys, 64, 2);
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.True(vq.virtqueue_kick());                                  // nothing to notify, not broken
            Assert.Equal(0, n.Count);
            dev.SetDeviceEvent(SimPackedVring.FLAG_DESC, 3);                   // DESC is only valid with EVENT_IDX:
            vq.virtqueue_add_inbuf(b.Phys, 64, 3);
            Assert.True(vq.virtqueue_kick_prepare());                          // then the safe answer is to kick
            dev.SetDeviceEvent(SimPackedVring.FLAG_ENABLE);
            Assert.Equal(3, dev.Process());
            Assert.Empty(_deviceErrors);
        }

        [Fact]
        public void DeviceEventDescWithWrapCounterAcrossTheEndOfTheRing()
        {
            var (vq, dev, _) = Make(5, eventIdx: true);
            DmaBuffer b = Buffer();
            for (int i = 0; i < 3; i++) RoundTrip(vq, dev, b.Phys, 64, 0);      // driver and device at slot 3, lap 1
            Assert.Equal((SimPackedVring.FLAG_DESC, (ushort)(3 | 0x8000)), (dev.DeviceEventFlags, dev.DeviceEventOffWrap));

            // The device wants a kick only once slot 1 of the next lap (wrap 0) is available.
            dev.SetDeviceEvent(SimPackedVring.FLAG_DESC, SimPackedVring.OffWrap(1, false));
            ulong tok = 10;
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, tok++));   // 3 -> 4
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, tok++));   // 4 -> 0, wrap flips
            Assert.False(vq.AvailWrapCounter);
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, tok++));   // 0 -> 1
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, tok++));   // 1 -> 2: passes (1, wrap 0)
            Assert.True(vq.virtqueue_kick_prepare());

            Assert.Equal(4, dev.Process());
            while (vq.virtqueue_get_buf(out _, out _, out _)) { }              // both sides at slot 2, lap 0

            // A batch that crosses the end of the ring passes an event left in the lap before:
            // (3, wrap 0) seen from (1, wrap 1) after adding slots 2, 3, 4, 0.
            dev.SetDeviceEvent(SimPackedVring.FLAG_DESC, SimPackedVring.OffWrap(3, false));
            for (int i = 0; i < 4; i++) Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, tok++));
            Assert.True(vq.AvailWrapCounter);
            Assert.True(vq.virtqueue_kick_prepare());
            // Right slot number, wrong lap: (1, wrap 0) was passed a lap ago; adding slot 1 of
            // lap 1 does not pass it again.
            dev.SetDeviceEvent(SimPackedVring.FLAG_DESC, SimPackedVring.OffWrap(1, false));
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, tok++));
            Assert.False(vq.virtqueue_kick_prepare());
            Assert.Empty(_deviceErrors);
        }

        [Fact]
        public void PackedNeedEventAgreesWithTheSlotBySlotDefinition()
        {
            // The driver's arithmetic (vring_need_event after shifting the other lap by num)
            // against SimPackedVring.NeedEvent, which walks the slots one by one.
            var rnd = new Random(11);
            for (int i = 0; i < 200000; i++)
            {
                uint num = rnd.Next(3) switch { 0 => (uint)rnd.Next(1, 10), 1 => (uint)rnd.Next(1, 1000), _ => (uint)rnd.Next(30000, 32769) };
                long lin = rnd.Next(0, 4 * (int)num) + 2 * num;                // driver's linear position (lap = lin / num)
                uint added = (uint)rnd.Next(0, (int)Math.Min(num, 2000) + 1); // the reference walks every slot
                long ev = lin - rnd.Next(0, (int)num + 1);                     // the device is at most a lap behind
                (uint pos, bool wrap) At(long l) => ((uint)(l % num), (l / num) % 2 == 0);
                var (newPos, newWrap) = At(lin);
                var (oldPos, oldWrap) = At(lin - added);
                var (evPos, evWrap) = At(ev);
                ushort offWrap = SimPackedVring.OffWrap(evPos, evWrap);
                bool reference = SimPackedVring.NeedEvent(offWrap, oldPos, oldWrap, newPos, newWrap, num);
                bool driver = PackedVirtqueue.vring_packed_need_event(offWrap, (ushort)newPos, (ushort)(newPos - added), newWrap, num);
                Assert.True(reference == driver, $"num {num} old ({oldPos},{oldWrap}) new ({newPos},{newWrap}) event ({evPos},{evWrap}): reference {reference}, driver {driver}");
            }
        }

        [Fact]
        public void AnIdleDeviceWithEventIdxGetsEveryKickAndABusyOneNone()
        {
            var (vq, dev, n) = Make(6, eventIdx: true);
            DmaBuffer b = Buffer();
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, (ulong)i));
                Assert.True(vq.virtqueue_kick());                              // device idle: DESC at our next slot
                dev.Process();
                Assert.True(vq.virtqueue_get_buf(out _, out _, out _));
            }
            Assert.Equal(20, n.Count);
            vq.virtqueue_add_inbuf(b.Phys, 64, 100);
            Assert.True(vq.virtqueue_kick_prepare());
            vq.virtqueue_add_inbuf(b.Phys, 64, 101);                           // device has not looked yet
            Assert.False(vq.virtqueue_kick_prepare());
        }

        // ---- used buffer notifications: the driver event suppression structure -----------------

        [Fact]
        public void DisableCbWritesDisableWithOrWithoutEventIdx()
        {
            foreach (bool eventIdx in new[] { false, true })
            {
                var (vq, dev, _) = Make(4, eventIdx);
                DmaBuffer b = Buffer();
                RoundTrip(vq, dev, b.Phys, 64, 1);
                Assert.Equal(1, dev.Interrupts);                               // zeroed structure: ENABLE
                vq.virtqueue_disable_cb();
                Assert.Equal(SimPackedVring.FLAG_DISABLE, dev.DriverEventFlags);
                for (int i = 0; i < 10; i++) RoundTrip(vq, dev, b.Phys, 64, 2);
                Assert.Equal(1, dev.Interrupts);                               // none while disabled
                uint last = vq.virtqueue_enable_cb_prepare();
                Assert.Equal(eventIdx ? SimPackedVring.FLAG_DESC : SimPackedVring.FLAG_ENABLE, dev.DriverEventFlags);
                Assert.False(vq.virtqueue_poll(last));
                RoundTrip(vq, dev, b.Phys, 64, 3);
                Assert.Equal(2, dev.Interrupts);
            }
            Assert.Empty(_deviceErrors);
        }

        [Fact]
        public void EnableCbWithEventIdxInterruptsOnlyAtTheNamedSlotAcrossTheWrap()
        {
            var (vq, dev, _) = Make(5, eventIdx: true);
            DmaBuffer b = Buffer(5 * 64);
            vq.virtqueue_disable_cb();
            for (int i = 0; i < 4; i++) RoundTrip(vq, dev, b.Phys, 64, 0);      // both sides at slot 4, lap 1
            Assert.Equal(0, dev.Interrupts);

            uint last = vq.virtqueue_enable_cb_prepare();
            Assert.Equal((uint)(4 | 0x8000), last);                            // offset 4, wrap 1
            Assert.Equal((ushort)last, dev.DriverEventOffWrap);
            Assert.False(vq.virtqueue_poll(last));

            // Three buffers: used at slots 4 (lap 1), 0, 1 (lap 0). Slot 4 lap 1 is passed: one interrupt.
            for (ulong t = 0; t < 3; t++) vq.virtqueue_add_inbuf(b.Phys + 64 * t, 64, t);
            vq.virtqueue_kick_prepare();
            Assert.Equal(3, dev.Process());
            Assert.Equal(1, dev.Interrupts);
            Assert.True(vq.virtqueue_poll(last));
            Assert.False(vq.virtqueue_enable_cb());                            // something arrived: caller must poll

            // get_buf moves off_wrap along (DESC mode): after taking all three, slot 2 of lap 0.
            while (vq.virtqueue_get_buf(out _, out _, out _)) { }
            Assert.Equal(SimPackedVring.OffWrap(2, false), dev.DriverEventOffWrap);
            Assert.Equal(SimPackedVring.OffWrap(2, false), vq.LastUsedIdx);
            RoundTrip(vq, dev, b.Phys, 64, 9);
            Assert.Equal(2, dev.Interrupts);                                   // the next one interrupts again

            // A slot used in another lap is not mistaken for "used now": slot 3 holds lap 1's
            // used descriptor; asked about lap 0 the answer is no.
            Assert.False(vq.virtqueue_poll(SimPackedVring.OffWrap(3, false)));
            Assert.Empty(_deviceErrors);
        }

        // Each barrier is checked where it stands, not only counted: when it runs, what the
        // driver stored before it is already in ring memory, and what the driver may load only
        // after it is put there by the (test's) device at that very moment, so a load moved
        // above the barrier sees the stale value and the step fails.
        [Fact]
        public void BarriersAreIssuedWhereLinuxHasThem()
        {
            var (vq, dev, _) = Make(4, eventIdx: true);
            DmaBuffer b = Buffer(256);
            ulong* addr = stackalloc ulong[3];
            uint* len = stackalloc uint[3];
            for (int i = 0; i < 3; i++) { addr[i] = b.Phys + 64 * (ulong)i; len[i] = 8; }
            BarrierLog.Reset();

            // add: the whole chain written, its later descriptors already available, then
            // dma_wmb, then the head's flags.
            BarrierLog.OnBarrier = k =>
            {
                Assert.Equal(BarrierKind.dma_wmb, k);
                Assert.False(SimPackedVring.IsAvail(dev.DescFlags(0), true), "head available before the barrier");
                Assert.True(SimPackedVring.IsAvail(dev.DescFlags(1), true) && SimPackedVring.IsAvail(dev.DescFlags(2), true));
                Assert.Equal((b.Phys, b.Phys + 128, (ushort)0), (dev.DescAddr(0), dev.DescAddr(2), dev.DescId(2)));
            };
            Assert.Equal(DriverError.Ok, vq.virtqueue_add(addr, len, 1, 2, 7));
            Assert.True(SimPackedVring.IsAvail(dev.DescFlags(0), true));

            // kick_prepare: head flags stored, then virt_mb, then the device event loaded.
            // Before the barrier the device says DISABLE, from it on ENABLE.
            dev.SetDeviceEvent(SimPackedVring.FLAG_DISABLE);
            BarrierLog.OnBarrier = k =>
            {
                Assert.Equal(BarrierKind.virt_mb, k);
                dev.SetDeviceEvent(SimPackedVring.FLAG_ENABLE);
            };
            Assert.True(vq.virtqueue_kick_prepare());

            // get_buf: used flags loaded, then dma_rmb, then id and len. Before the barrier
            // they are garbage (id 3, never given out); the device writes the real ones there.
            // ENABLE mode: no off_wrap store, so no virt_mb.
            dev.PushUsed(3, 999, 3);                                           // slot 0; the chain's 3 slots
            BarrierLog.OnBarrier = k =>
            {
                Assert.Equal(BarrierKind.dma_rmb, k);
                *(ushort*)(dev.Desc + 12) = 0;
                *(uint*)(dev.Desc + 8) = 16;
            };
            Assert.True(vq.virtqueue_get_buf(out ulong token, out uint l, out DriverError e), e.ToString());
            Assert.Equal((7UL, 16u), (token, l));

            // enable_cb_prepare with EVENT_IDX: off_wrap stored, then dma_wmb, then flags = DESC.
            vq.virtqueue_disable_cb();
            BarrierLog.OnBarrier = k =>
            {
                Assert.Equal(BarrierKind.dma_wmb, k);
                Assert.Equal((vq.LastUsedIdx, SimPackedVring.FLAG_DISABLE), (dev.DriverEventOffWrap, dev.DriverEventFlags));
            };
            vq.virtqueue_enable_cb_prepare();
            Assert.Equal(SimPackedVring.FLAG_DESC, dev.DriverEventFlags);

            // get_buf in DESC mode: off_wrap moved past the buffer taken, then virt_mb.
            BarrierLog.OnBarrier = null;
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 8, 8));   // slot 3
            dev.PushUsed(dev.DescId(3), 8);
            BarrierLog.OnBarrier = k =>
            {
                if (k == BarrierKind.virt_mb) Assert.Equal(SimPackedVring.OffWrap(0, false), dev.DriverEventOffWrap);
            };
            Assert.True(vq.virtqueue_get_buf(out token, out l, out e), e.ToString());
            Assert.Equal((8UL, 8u), (token, l));
            Assert.Equal((3L, 2L, 2L), (BarrierLog.Get(BarrierKind.dma_wmb), BarrierLog.Get(BarrierKind.virt_mb), BarrierLog.Get(BarrierKind.dma_rmb)));
        }

        // ---- a device that lies --------------------------------------------------------------

        [Fact]
        public void UsedIdOutOfRangeBreaksTheQueue()
        {
            var (vq, dev, _) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);
            dev.PushUsed(8 + 3, 64);
            Assert.True(vq.virtqueue_more_used());
            Assert.False(vq.virtqueue_get_buf(out _, out _, out DriverError e));
            Assert.Equal(DriverError.UsedIdOutOfRange, e);
            Assert.True(vq.Broken);
            Assert.Equal(DriverError.QueueBroken, vq.virtqueue_add_inbuf(b.Phys, 64, 6));
            Assert.False(vq.virtqueue_get_buf(out _, out _, out e));
            Assert.Equal(DriverError.QueueBroken, e);
            Assert.Contains("virtqueue 0 (packed): device error: used id out of range (11, queue size 8); queue marked broken [BAD_RING]", LogText);
        }

        [Fact]
        public void UsedIdNotOutstandingIsRejected()
        {
            var (vq, dev, _) = Make(8, eventIdx: true);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);                             // id 0
            dev.PushUsed(1, 64);                                               // never made available
            Assert.False(vq.virtqueue_get_buf(out _, out _, out DriverError e));
            Assert.Equal(DriverError.UsedIdNotOutstanding, e);
            Assert.Contains("used id not outstanding (1, queue size 8)", LogText);

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
        public void UsedLenLargerThanTheChainIsRejectedAndZeroIsPassedOn()
        {
            var (vq, dev, _) = Make(8, eventIdx: false);
            DmaBuffer b = Buffer();
            vq.virtqueue_add_inbuf(b.Phys, 64, 5);
            dev.PushUsed(0, 0);
            Assert.True(vq.virtqueue_get_buf(out ulong t, out uint len, out DriverError e));   // the ring does not judge 0
            Assert.Equal((5UL, 0u, DriverError.Ok), (t, len, e));

            ulong* addr = stackalloc ulong[2] { b.Phys, b.Phys + 32 };
            uint* lens = stackalloc uint[2] { 16, 32 };
            vq.virtqueue_add(addr, lens, 1, 1, 6);                             // 32 writable bytes, not 48
            dev.PushUsed(0, 33, 2);
            Assert.False(vq.virtqueue_get_buf(out _, out _, out e));
            Assert.Equal(DriverError.UsedLenTooLarge, e);
            Assert.Equal(8u, vq.NumFree);                                      // slots reclaimed, nothing leaked
            Assert.Contains("used len larger than buffer (33, queue size 8)", LogText);
        }

        [Theory]
        [InlineData("id out of range", DriverError.UsedIdOutOfRange)]
        [InlineData("id not outstanding", DriverError.UsedIdNotOutstanding)]
        [InlineData("len too large", DriverError.UsedLenTooLarge)]
        public void TheSimulatedDeviceCanBeMadeToLie(string how, DriverError expected)
        {
            var (vq, dev, _) = Make(6, eventIdx: true);
            DmaBuffer b = Buffer();
            RoundTrip(vq, dev, b.Phys, 64, 1);
            dev.MangleUsed = (id, len) => how switch
            {
                "id out of range" => (6u, len),
                "id not outstanding" => (id + 1, len),
                _ => (id, len + 1),
            };
            vq.virtqueue_add_inbuf(b.Phys, 64, 2);
            Assert.Equal(1, dev.Process());
            Assert.False(vq.virtqueue_get_buf(out _, out _, out DriverError e));
            Assert.Equal(expected, e);
            Assert.Equal(expected, vq.BrokenReason);
        }

        [Fact]
        public void HostileUsedDescriptorsNeverCorruptTheDriversBookkeeping()
        {
            // Garbage used descriptors (any id, len, skip) many times over: the driver may only
            // ever hand back a token it gave out, for the id in the descriptor it read, with
            // exactly that descriptor's len, which fits the buffer; or report an error and stay
            // broken. An unchecked id would index outside the driver's arrays (an exception
            // here, memory corruption on metal). Afterwards its count of free slots is exactly
            // the slots of the buffers it still believes the device holds, and nothing was
            // written outside the ring or the buffers (each its own allocation between guard pages).
            var rnd = new Random(5);
            var outcomes = new Dictionary<DriverError, int>();
            for (int round = 0; round < 300; round++)
            {
                HostedHal.Reset();
                uint num = (uint)rnd.Next(1, 10);
                var (vq, dev, _) = Make(num, eventIdx: rnd.Next(2) == 0);
                var given = new Dictionary<ushort, (ulong token, uint len)>();   // by buffer id
                for (int i = 0; i < 1 + rnd.Next((int)num); i++)
                {
                    uint l = (uint)rnd.Next(1, 64);
                    uint slot = vq.NextAvailIdx;
                    if (vq.virtqueue_add_inbuf(Dma.AllocCoherent(l).Phys, l, (ulong)i + 100) == DriverError.Ok) given[dev.DescId(slot)] = ((ulong)i + 100, l);
                }
                for (int k = 0; k < 20; k++) dev.PushUsed((uint)rnd.Next(-2, 12), (uint)rnd.Next(0, 100), (uint)rnd.Next(1, 4));
                bool broken = false;
                for (int k = 0; k < 30; k++)
                {
                    uint slot = vq.LastUsedIdx & 0x7FFFu;                          // what the driver is about to read
                    ushort id = dev.DescId(slot);
                    uint usedLen = dev.DescLen(slot);
                    bool got = vq.virtqueue_get_buf(out ulong tok, out uint len, out DriverError e);
                    if (got)
                    {
                        Assert.False(broken);
                        Assert.True(given.Remove(id, out var g), $"round {round}: id {id} handed back but not outstanding");
                        Assert.Equal((g.token, usedLen), (tok, len));
                        Assert.True(len <= g.len, $"round {round}: len {len} > the {g.len} bytes offered");
                    }
                    else if (e != DriverError.Ok)
                    {
                        Assert.True(vq.Broken);
                        if (!broken) outcomes[e] = outcomes.GetValueOrDefault(e) + 1;
                        if (e == DriverError.UsedLenTooLarge) given.Remove(id);   // the driver took its slots back
                        broken = true;
                    }
                }
                Assert.Equal(num - (uint)given.Count, vq.NumFree);             // one slot per buffer still held
                Assert.Empty(DmaPool.CheckCanaries());
            }
            foreach (var e in new[] { DriverError.UsedIdOutOfRange, DriverError.UsedIdNotOutstanding, DriverError.UsedLenTooLarge })
                Assert.True(outcomes.GetValueOrDefault(e) >= 20, $"{e}: {outcomes.GetValueOrDefault(e)} rounds");
        }
    }
}
