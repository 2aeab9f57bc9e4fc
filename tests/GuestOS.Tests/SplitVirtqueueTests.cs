using System;
using System.Collections.Generic;
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

        [Fact]
        public void BarriersAreIssuedWhereLinuxHasThem()
        {
            var (vq, dev, _) = Make(4, eventIdx: true);
            DmaBuffer b = Buffer();
            BarrierLog.Reset();
            vq.virtqueue_add_inbuf(b.Phys, 64, 1);
            Assert.Equal(1, BarrierLog.Get(BarrierKind.dma_wmb));      // before publishing avail->idx
            vq.virtqueue_kick_prepare();
            Assert.Equal(1, BarrierLog.Get(BarrierKind.virt_mb));      // between avail->idx and avail_event
            dev.Process();
            Assert.True(vq.virtqueue_get_buf(out _, out _, out _));
            Assert.Equal(1, BarrierLog.Get(BarrierKind.dma_rmb));      // between used->idx and the element
            Assert.Equal(2, BarrierLog.Get(BarrierKind.virt_mb));      // after writing used_event
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

        [Fact]
        public void HostileUsedRingNeverMakesTheDriverWriteOutsideItsBuffers()
        {
            // Fill the used ring with garbage many times over; the driver must only ever
            // report errors, and the descriptor table must stay exactly as the driver wrote it.
            var rnd = new Random(3);
            for (int round = 0; round < 200; round++)
            {
                HostedHal.Reset();
                var (vq, dev, _) = Make(8, eventIdx: rnd.Next(2) == 0);
                DmaBuffer b = Buffer(8 * 64);
                for (int i = 0; i < 1 + rnd.Next(8); i++) vq.virtqueue_add_inbuf(b.Phys + 64UL * (ulong)i, 64, (ulong)i);
                byte[] descBefore = new byte[16 * 8];
                System.Runtime.InteropServices.Marshal.Copy((IntPtr)(long)vq.DescPhys, descBefore, 0, descBefore.Length);
                for (int k = 0; k < 20; k++) dev.PushUsed((uint)rnd.Next(-2, 12), (uint)rnd.Next(0, 200));
                for (int k = 0; k < 30; k++)
                {
                    bool got = vq.virtqueue_get_buf(out ulong tok, out uint len, out DriverError e);
                    if (got) Assert.True(len <= 64 && tok < 8);
                    else if (e != DriverError.Ok) Assert.True(vq.Broken);
                }
                byte[] descAfter = new byte[16 * 8];
                System.Runtime.InteropServices.Marshal.Copy((IntPtr)(long)vq.DescPhys, descAfter, 0, descAfter.Length);
                Assert.Equal(descBefore, descAfter);
                Assert.True(vq.NumFree <= 8);
            }
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
