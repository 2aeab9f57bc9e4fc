using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // The entropy driver, unchanged, over a packed ring: what QEMU's virtio-rng-pci,packed=on
    // offers (its 7.2 features plus RING_PACKED).
    // Like VirtioRngTests: Linux's shape (one 64-byte buffer) and polling, so every request and
    // notify is accounted for; the interrupt-driven default over a packed ring is at the end.
    public sealed unsafe class VirtioRngPackedTests : HalTest
    {
        public VirtioRngPackedTests() { LinuxShapePolling(); }

        private const ulong QemuRng = (1UL << 28) | (1UL << 29) | (1UL << 32) | (1UL << 40);
        private const ulong RingPacked = 1UL << 34;

        private static (VirtioRng rng, SimVirtioDevice dev) Up(SimVirtioDevice dev = null, bool x86 = false)
        {
            var up = UpRng(dev ?? new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked }), x86);
            Assert.NotNull(up.dev.Q(0).Packed);                                // the device runs the packed layout
            return up;
        }


        [Theory]
        [InlineData(8, false)]
        [InlineData(6, true)]          // not a power of 2: only a packed ring may take it
        [InlineData(3, false)]
        public void ReadsExactlyTheBytesTheDeviceProducedInOrder(int queueSize, bool x86)
        {
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked, QueueSize = (ushort)queueSize }), x86);
            Assert.Equal(QemuRng | RingPacked, dev.DriverFeatures);
            Assert.Contains("driver features 0x10530000000 = INDIRECT_DESC EVENT_IDX VERSION_1 RING_PACKED RING_RESET", LogText);
            Assert.Equal((uint)queueSize, dev.Q(0).Packed.Size);
            Assert.Matches(@"kick: virtio_rng.0: \d+ device-writable buffers made available, device notified  spec 2.8.21, 4.1.5.2 \[request_entropy -> virtqueue_add_inbuf, virtqueue_kick\] \| iowrite16 notify\+0x0 = 0x0000\n", LogText);
            byte[] got = ReadAll(rng, 1, 7, 64, 100, 3, 0, 200);
            Assert.Equal(dev.Produced.Take(375), got);
            Assert.Equal(6, dev.Q(0).Packed.Completions);
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
        }

        [Fact]
        public void ManyLapsOfANonPowerOf2RingFlipBothWrapCounters()
        {
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked, QueueSize = 7 }) { FillLimit = 1 });
            IoBus.Record = false;
            const uint n = 70000;
            byte[] buf = new byte[n];
            fixed (byte* p = buf) Assert.Equal((long)n, rng.virtio_read(p, n));
            Assert.Equal(dev.Produced.Take((int)n), buf);
            var ring = dev.Q(0).Packed;
            Assert.Equal((long)n, ring.Completions);
            Assert.Equal((long)n / 7, ring.UsedLaps);                          // one slot per request
            Assert.Equal((long)(n + 1) / 7, ring.AvailLaps);                   // one more request is posted
            Assert.Equal((long)n + 1, dev.Q(0).Notifies);                      // EVENT_IDX: an idle device wants every kick
            Assert.Equal(0, ring.Interrupts);                                  // polling: DISABLE
            Assert.Equal(SimPackedVring.FLAG_DISABLE, ring.DriverEventFlags);
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
        }

        [Fact]
        public void WithoutEventIdxTheDeviceEventFlagsDecide()
        {
            var dev = new SimVirtioDevice(new SimVirtioOptions { Features = (1UL << 32) | RingPacked });
            var (rng, _) = Up(dev);
            Assert.Equal(dev.Produced.Take(130), ReadAll(rng, 130));
            Assert.Equal(3, dev.Q(0).Notifies);                                // ENABLE: every request kicks
            dev.Q(0).Packed.SetDeviceEvent(SimPackedVring.FLAG_DISABLE);       // the device says "don't"
            Assert.Equal(dev.Produced.Skip(130).Take(126), ReadAll(rng, 126));
            Assert.Equal(3, dev.Q(0).Notifies);
            Assert.Equal(0, dev.Q(0).Packed.Interrupts);
        }

        [Theory]
        [InlineData("id out of range", DriverError.UsedIdOutOfRange)]
        [InlineData("id not outstanding", DriverError.UsedIdNotOutstanding)]
        [InlineData("len too large", DriverError.UsedLenTooLarge)]
        public void MisbehavingDeviceGivesAnErrorValueAndCannotCorruptMemory(string how, DriverError expected)
        {
            var dev = new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked, QueueSize = 5 });
            bool bad = false;
            dev.MangleUsed = (id, len) => !bad ? (id, len) : how switch
            {
                "id out of range" => (5u, len),
                "id not outstanding" => ((id + 1) % 5, len),
                _ => (id, 65u),
            };
            var (rng, _) = Up(dev);
            ReadAll(rng, 64 * 12);                                             // a few laps first
            bad = true;
            byte[] dst = Enumerable.Repeat((byte)0x5C, 256).ToArray();
            fixed (byte* p = dst)
            {
                Assert.Equal(-(long)expected, rng.virtio_read(p, 128));
                Assert.Equal(-(long)expected, rng.virtio_read(p, 1));                 // sticky: the queue is broken
            }
            Assert.All(dst, x => Assert.Equal(0x5C, x));
            Assert.Equal(expected, rng.LastFatalError);
            Assert.Contains("virtqueue 0 (packed): device error: " + System.Text.Encoding.ASCII.GetString(DriverErrors.Name(expected)), LogText);
        }

        [Fact]
        public void SplitOnlyDeviceWithTheSameSizeIsRefusedButPackedTakesIt()
        {
            var split = new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng, QueueSize = 6 });
            var m = TestMachine.Virt(split);
            Assert.Equal(DriverError.QueueSizeInvalid, DriverStack.Start(m.Cfg, m.Windows, out _));
            Assert.Contains("split ring size is not a power of 2 up to 32768 (6)", LogText);

            HostedHal.Reset();
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked, QueueSize = 6 }));
            Assert.Equal(dev.Produced.Take(50), ReadAll(rng, 50));
        }

        [Fact]
        public void LargeQueueIsCappedAndRemoveFreesTheRing()
        {
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked, QueueSize = 1000 }));
            Assert.Equal(VirtioRng.MaxBuffers, (uint)dev.Q(0).Size);         // the cap is written back
            Assert.Equal(dev.Produced.Take(200), ReadAll(rng, 200));
            rng.virtrng_remove();
            Assert.Equal(0, DmaPool.LiveCount);
            Assert.Equal(0, dev.Status);
        }
            // The default shape (1 MiB spread over the whole queue) with MSI-X over a packed ring: the
        // packed enable_cb/poll path arms the driver event suppression before every sleep.
        [Fact]
        public void InterruptDrivenQueueFullReadOverPackedRing()
        {
            GuestOS.Drivers.Rng.VirtioRng.ProbeBuffers = 0;
            GuestOS.Drivers.Rng.VirtioRng.ProbeBufferSize = 0;
            GuestOS.Drivers.Rng.VirtioRng.ProbePolling = false;
            var dev = new SimVirtioDevice(new SimVirtioOptions { Features = QemuRng | RingPacked, QueueSize = 6 });
            var m = TestMachine.Virt(dev);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            var rng = r.Single();
            Assert.True(dev.RingPacked);
            byte[] buf = new byte[300000];
            fixed (byte* p = buf) Assert.Equal((long)buf.Length, rng.virtio_read(p, (uint)buf.Length));
            Assert.Equal(dev.Produced.Take(buf.Length), buf);
            Assert.Equal(6u, rng.BufferCount);
            Assert.True(rng.Interrupts > 0);
            Assert.Equal(0, rng.BuffersUnaccounted);
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
        }
    }
}
