using System.Collections.Generic;
using GuestOS.Drivers;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // SimVring's and SimPackedVring's checkers must be able to fail: each rule the simulated
    // device enforces on the driver's side of a ring, broken once by the test (the ring memory
    // is the test's, and so is the order of the driver's calls), is recorded as exactly that
    // error and nothing else, and the device stops at it (Process returns -1) where the rule
    // makes the ring unusable.
    public sealed unsafe class RingCheckerTests : HalTest
    {
        private readonly List<string> _errors = new List<string>();

        private const ushort NEXT = 1, WRITE = 2, INDIRECT = 4;

        private (SplitVirtqueue vq, SimVring dev) Split(bool eventIdx = true, bool deviceEventIdx = true)
        {
            var vq = SplitVirtqueue.vring_create_virtqueue(0, 8, eventIdx, new CountingNotifier(), out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            return (vq, new SimVring(_errors) { Desc = vq.DescPhys, Driver = vq.AvailPhys, Device = vq.UsedPhys, Size = vq.Num, EventIdx = deviceEventIdx });
        }

        private (PackedVirtqueue vq, SimPackedVring dev) Packed(uint num = 8, bool eventIdx = true, bool deviceEventIdx = true)
        {
            var vq = PackedVirtqueue.vring_create_virtqueue(0, num, eventIdx, new CountingNotifier(), out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            return (vq, new SimPackedVring(_errors) { Desc = vq.DescAreaPhys, Driver = vq.DriverAreaPhys, Device = vq.DeviceAreaPhys, Size = vq.Num, EventIdx = deviceEventIdx });
        }

        // Split descriptor i's fields (§2.7.5), packed descriptor i's flags and id (§2.8.13).
        private static ushort* SplitFlags(SimVring dev, uint i) => (ushort*)(dev.Desc + 16 * i + 12);
        private static ushort* SplitNext(SimVring dev, uint i) => (ushort*)(dev.Desc + 16 * i + 14);
        private static ushort* PackedFlags(SimPackedVring dev, uint i) => (ushort*)(dev.Desc + 16 * i + 14);
        private static ushort* PackedId(SimPackedVring dev, uint i) => (ushort*)(dev.Desc + 16 * i + 12);

        private static DriverError AddChain(Virtqueue vq, DmaBuffer b, uint outN, uint inN, ulong token)
        {
            ulong* addr = stackalloc ulong[4];
            uint* len = stackalloc uint[4];
            for (uint k = 0; k < outN + inN; k++) { addr[k] = b.Phys + 64 * k; len[k] = 64; }
            return vq.virtqueue_add(addr, len, outN, inN, token);
        }

        // A DMA address nobody owns any more.
        private static ulong Freed()
        {
            DmaBuffer b = Dma.AllocCoherent(64);
            Dma.FreeCoherent(b);
            return b.Phys;
        }

        private void AssertStopsWith(SimRing dev, string expected)
        {
            Assert.Equal(-1, dev.Process());
            Assert.Equal(new[] { expected }, _errors);
        }

        // ---- split ring (§2.7) ------------------------------------------------------------

        [Fact]
        public void SplitAvailIdxMoreThanAQueueAheadIsCaught()
        {
            var (vq, dev) = Split();
            *(ushort*)(dev.Driver + 2) = 9;                             // avail->idx: 9 entries in a ring of 8
            AssertStopsWith(dev, "avail idx 9 is more than 8 ahead of 0");
        }

        [Fact]
        public void SplitAvailRingHeadOutOfRangeIsCaught()
        {
            var (vq, dev) = Split();
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            *(ushort*)(dev.Driver + 4) = 8;                             // avail->ring[0]
            AssertStopsWith(dev, "avail ring head 8 out of range");
        }

        [Fact]
        public void SplitDescriptorChainLoopIsCaught()
        {
            var (vq, dev) = Split();
            Assert.Equal(DriverError.Ok, AddChain(vq, Dma.AllocCoherent(128), 0, 2, 1));   // 0 -> 1
            *SplitFlags(dev, 1) |= NEXT;
            *SplitNext(dev, 1) = 0;                                     // 1 -> 0 -> 1 ...
            AssertStopsWith(dev, "descriptor chain loops (§2.7.5.2)");
        }

        [Fact]
        public void SplitDescriptorNextOutOfRangeIsCaught()
        {
            var (vq, dev) = Split();
            Assert.Equal(DriverError.Ok, AddChain(vq, Dma.AllocCoherent(128), 0, 2, 1));
            *SplitNext(dev, 0) = 8;
            AssertStopsWith(dev, "descriptor next 8 out of range");
        }

        [Fact]
        public void SplitReadableAfterWritableIsCaught()
        {
            var (vq, dev) = Split();
            Assert.Equal(DriverError.Ok, AddChain(vq, Dma.AllocCoherent(128), 1, 1, 1));   // readable, writable
            *SplitFlags(dev, 0) |= WRITE;
            *SplitFlags(dev, 1) &= unchecked((ushort)~WRITE);          // writable, readable
            AssertStopsWith(dev, "descriptor 1: device-readable after device-writable (§2.7.5.2)");
        }

        [Fact]
        public void SplitIndirectWithoutTheFeatureIsCaught()
        {
            var (vq, dev) = Split();
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            *SplitFlags(dev, 0) |= INDIRECT;
            AssertStopsWith(dev, "descriptor 0: INDIRECT without VIRTIO_F_INDIRECT_DESC (§2.7.5.3.1)");
        }

        [Theory]
        [InlineData(true)]      // a buffer the device writes
        [InlineData(false)]     // a buffer the device reads
        public void SplitBufferOutsideDriverMemoryIsCaught(bool writable)
        {
            var (vq, dev) = Split();
            ulong gone = Freed();
            Assert.Equal(DriverError.Ok, writable ? vq.virtqueue_add_inbuf(gone, 64, 1) : vq.virtqueue_add_outbuf(gone, 64, 1));
            AssertStopsWith(dev, $"device DMA outside driver memory: 0x{gone:x} len 64");
        }

        [Fact]
        public void SplitRingFreedWhileTheDeviceUsesItIsCaught()
        {
            var (vq, dev) = Split();
            ulong desc = vq.DescPhys;
            vq.vring_del_virtqueue();                                   // without resetting the device first
            AssertStopsWith(dev, $"device DMA outside driver memory: 0x{desc:x} len 128 (descriptor table)");
        }

        [Fact]
        public void SplitUsedRingWrittenByTheDriverIsCaught()
        {
            var (vq, dev) = Split();
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            Assert.Equal(1, dev.Process());
            Assert.True(vq.virtqueue_get_buf(out _, out _, out _));
            *(ushort*)(dev.Device + 2) = 0;                             // used->idx "rewound" by the driver
            AssertStopsWith(dev, "used ring +0x2 changed by the driver (0x01 -> 0x00): only the device writes it (§2.7.8)");
        }

        // The driver built its ring without EVENT_IDX, the device negotiated it: disable_cb
        // sets NO_INTERRUPT in avail->flags, which with EVENT_IDX must stay 0.
        [Fact]
        public void SplitAvailFlagsSetWithEventIdxAreCaught()
        {
            var (vq, dev) = Split(eventIdx: false, deviceEventIdx: true);
            vq.virtqueue_disable_cb();
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            Assert.Equal(1, dev.Process());                             // the buffer is still used
            Assert.Equal(new[] { "avail flags 0x1 invalid: the driver sets 0 with EVENT_IDX (§2.7.7.1)" }, _errors);
        }

        [Fact]
        public void SplitAvailFlagsOtherThanNoInterruptAreCaught()
        {
            var (vq, dev) = Split(eventIdx: false, deviceEventIdx: false);
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            *(ushort*)dev.Driver = 2;                                   // no such flag (§2.7.6)
            Assert.Equal(1, dev.Process());
            Assert.Equal(new[] { "avail flags 0x2 invalid: the driver sets 0 or 1 without EVENT_IDX (§2.7.7.1)" }, _errors);
        }

        // ---- packed ring (§2.8) -----------------------------------------------------------

        [Fact]
        public void PackedChainLongerThanTheQueueIsCaught()
        {
            var (vq, dev) = Packed(num: 4);
            Assert.Equal(DriverError.Ok, AddChain(vq, Dma.AllocCoherent(256), 0, 4, 1));   // the whole ring
            *PackedFlags(dev, 3) |= NEXT;                               // ... and it goes on
            AssertStopsWith(dev, "descriptor chain at 0 longer than the queue (4)");
        }

        [Fact]
        public void PackedChainHeadPublishedBeforeItsTailIsCaught()
        {
            var (vq, dev) = Packed();
            Assert.Equal(DriverError.Ok, AddChain(vq, Dma.AllocCoherent(128), 0, 2, 1));
            *PackedFlags(dev, 1) = WRITE;                               // slot 1 not (yet) available in lap 1
            AssertStopsWith(dev, "descriptor 1 of the chain at 0 not available (flags 0x0002, wrap 1) (§2.8.6)");
        }

        [Fact]
        public void PackedIndirectWithoutTheFeatureIsCaught()
        {
            var (vq, dev) = Packed();
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            *PackedFlags(dev, 0) |= INDIRECT;
            AssertStopsWith(dev, "descriptor 0: INDIRECT without VIRTIO_F_INDIRECT_DESC (§2.8.19)");
        }

        [Fact]
        public void PackedReadableAfterWritableIsCaught()
        {
            var (vq, dev) = Packed();
            Assert.Equal(DriverError.Ok, AddChain(vq, Dma.AllocCoherent(128), 1, 1, 1));
            *PackedFlags(dev, 0) |= WRITE;
            *PackedFlags(dev, 1) &= unchecked((ushort)~WRITE);
            AssertStopsWith(dev, "descriptor 1: device-readable after device-writable (§2.8.17)");
        }

        [Fact]
        public void PackedBufferIdReusedWhileInFlightIsCaught()
        {
            var (vq, dev) = Packed();
            DmaBuffer b = Dma.AllocCoherent(128);
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys, 64, 1));        // id 0
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(b.Phys + 64, 64, 2));   // id 1 ...
            *PackedId(dev, 1) = *PackedId(dev, 0);                      // ... made id 0 again
            AssertStopsWith(dev, "buffer id 0 made available while still in flight");
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void PackedBufferOutsideDriverMemoryIsCaught(bool writable)
        {
            var (vq, dev) = Packed();
            ulong gone = Freed();
            Assert.Equal(DriverError.Ok, writable ? vq.virtqueue_add_inbuf(gone, 64, 1) : vq.virtqueue_add_outbuf(gone, 64, 1));
            AssertStopsWith(dev, $"device DMA outside driver memory: 0x{gone:x} len 64");
        }

        [Fact]
        public void PackedRingFreedWhileTheDeviceUsesItIsCaught()
        {
            var (vq, dev) = Packed();
            ulong desc = vq.DescAreaPhys;
            vq.vring_del_virtqueue();
            AssertStopsWith(dev, $"device DMA outside driver memory: 0x{desc:x} len 128 (descriptor ring)");
        }

        [Fact]
        public void PackedDeviceEventSuppressionWrittenByTheDriverIsCaught()
        {
            var (vq, dev) = Packed(eventIdx: false, deviceEventIdx: false);
            *(ushort*)(dev.Device + 2) = SimPackedVring.FLAG_DISABLE;   // the device's "kick me?", written by the driver
            AssertStopsWith(dev, "driver wrote the device event suppression structure");
        }

        // The driver built its ring with EVENT_IDX, the device did not negotiate it:
        // enable_cb_prepare asks for an interrupt at a descriptor (DESC), which needs EVENT_IDX.
        [Fact]
        public void PackedDriverEventDescWithoutEventIdxIsCaught()
        {
            var (vq, dev) = Packed(eventIdx: true, deviceEventIdx: false);
            vq.virtqueue_disable_cb();
            vq.virtqueue_enable_cb_prepare();
            Assert.Equal(SimPackedVring.FLAG_DESC, dev.DriverEventFlags);
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            Assert.Equal(1, dev.Process());
            Assert.Equal(new[] { "driver event flags DESC without EVENT_IDX (§2.8.10)" }, _errors);
        }

        [Fact]
        public void PackedDriverEventFlagsReservedValueIsCaught()
        {
            var (vq, dev) = Packed();
            Assert.Equal(DriverError.Ok, vq.virtqueue_add_inbuf(Dma.AllocCoherent(64).Phys, 64, 1));
            *(ushort*)(dev.Driver + 2) = 3;                             // flags: 0, 1, 2 are defined
            Assert.Equal(1, dev.Process());
            Assert.Equal(new[] { "driver event flags 0x3 reserved (§2.8.14)" }, _errors);
        }
    }
}
