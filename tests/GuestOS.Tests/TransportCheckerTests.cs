using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // SimVirtioDevice's checker must be able to fail: every rule it enforces on the driver,
    // broken once, through the driver's own transport API called in a wrong order (or one
    // register access the API would never issue), is recorded as exactly that violation and
    // nothing else. The legal steps before each fault record nothing (Clean).
    public sealed unsafe class TransportCheckerTests : HalTest
    {
        private VirtioDevice _vdev;
        private SimVirtioDevice _dev;
        private VirtioPciModern Vp => ((VirtioPciModernTransport)_vdev.Transport).Vp;

        private const ulong QemuRng = (1UL << 28) | (1UL << 29) | (1UL << 32) | (1UL << 40);

        // Enumerated and probed (capabilities mapped, decoding and bus mastering on); nothing
        // written to the common configuration yet.
        private void Probe(SimVirtioOptions opt = null, bool x86 = false)
        {
            _dev = new SimVirtioDevice(opt);
            var m = x86 ? TestMachine.X86(_dev) : TestMachine.Virt(_dev);
            PciDevice d = PciScan.Enumerate(m.Cfg, m.Windows).Single(x => x.VendorId == 0x1af4);
            d.SizeBars();   // as DriverStack does before a driver binds
            var t = VirtioPciModernTransport.virtio_pci_modern_probe(d, out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            _vdev = new VirtioDevice(t);
        }

        // Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (§3.1.1 steps 1-6).
        private void Negotiated(SimVirtioOptions opt = null)
        {
            Probe(opt);
            Assert.Equal(DriverError.Ok, _vdev.virtio_begin());
            Assert.Equal(DriverError.Ok, _vdev.virtio_negotiate(0, 0));
        }

        // ... queues set up and enabled (polling), not yet DRIVER_OK.
        private Virtqueue QueuesEnabled(SimVirtioOptions opt = null)
        {
            Negotiated(opt);
            var vqs = new Virtqueue[1];
            Assert.Equal(DriverError.Ok, _vdev.virtio_find_vqs(vqs, 8, null, polling: true));
            return vqs[0];
        }

        // ... and DRIVER_OK: the device is live.
        private Virtqueue Live(SimVirtioOptions opt = null)
        {
            Virtqueue vq = QueuesEnabled(opt);
            _vdev.virtio_device_ready();
            Clean();
            return vq;
        }

        private void Clean()
        {
            Assert.Empty(_dev.SpecViolations);
            Assert.Empty(_dev.DeviceErrors);
        }

        private void AssertOnly(params string[] expected)
        {
            Assert.Equal(expected, _dev.SpecViolations);
            Assert.Empty(_dev.DeviceErrors);
            Assert.Empty(_dev.Msix?.Violations ?? new List<string>());
        }

        // ---- registers outside the common configuration -----------------------------------

        [Fact]
        public void LegacyRegisterReadIsCaught()
        {
            Probe(new SimVirtioOptions { DeviceId = 0x1005, SubsystemId = 4 }, x86: true);
            Vp.vp_modern_get_status();                                  // driven through the modern interface ...
            Io.inb((ushort)(_dev.BarAddress(0) + 0x12));               // ... then the legacy device status
            AssertOnly("legacy I/O BAR read +0x12 on a device driven through the modern interface");
        }

        [Fact]
        public void LegacyRegisterWriteIsCaught()
        {
            Probe(new SimVirtioOptions { DeviceId = 0x1005, SubsystemId = 4 }, x86: true);
            Vp.vp_modern_get_status();
            Io.outb((ushort)(_dev.BarAddress(0) + 0x12), 0);
            AssertOnly("legacy I/O BAR write +0x12 on a device driven through the modern interface");
        }

        [Fact]
        public void NotifyRegionReadIsCaught()
        {
            Live();
            Io.ioread16(Vp.NotifyBase);
            AssertOnly("read from notify region");
        }

        [Fact]
        public void IsrWriteIsCaught()
        {
            Live();
            Io.iowrite8(Vp.Isr, 0);
            AssertOnly("write to ISR");
        }

        // ---- common configuration: access width, read-only fields -------------------------

        [Theory]
        [InlineData(0x14, 4, "common+0x14 accessed with width 4 (field width 1) (§4.1.3.1)")]   // device_status as a dword
        [InlineData(0x13, 2, "common+0x13 accessed with width 2 (field width 2, misaligned) (§4.1.3.1)")]   // num_queues, misaligned
        public void CommonFieldReadWithTheWrongWidthIsCaught(uint offset, int width, string expected)
        {
            Probe();
            if (width == 4) Io.ioread32(Vp.Common + offset);
            else Io.ioread16(Vp.Common + offset);
            AssertOnly(expected);
        }

        [Theory]
        [InlineData(VirtioPciRegs.VIRTIO_PCI_COMMON_DF, 4)]
        [InlineData(VirtioPciRegs.VIRTIO_PCI_COMMON_NUMQ, 2)]
        [InlineData(VirtioPciRegs.VIRTIO_PCI_COMMON_CFGGENERATION, 1)]
        [InlineData(VirtioPciRegs.VIRTIO_PCI_COMMON_Q_NOFF, 2)]
        public void WriteToAReadOnlyFieldIsCaught(uint offset, int width)
        {
            Probe();
            ulong at = Vp.Common + offset;
            if (width == 4) Io.iowrite32(at, 1);
            else if (width == 2) Io.iowrite16(at, 1);
            else Io.iowrite8(at, 1);
            AssertOnly($"write to read-only common+0x{offset:x2}");
        }

        // ---- device status (§3.1.1, §2.1.2) ---------------------------------------------

        [Fact]
        public void ClearingAStatusBitIsCaught()
        {
            Probe();
            Assert.Equal(DriverError.Ok, _vdev.virtio_begin());         // ACKNOWLEDGE | DRIVER
            Clean();
            Vp.vp_modern_set_status(VirtioStatus.ACKNOWLEDGE);
            AssertOnly("status bits cleared: 0x03 -> 0x01 (§2.1.2)");
        }

        [Fact]
        public void DriverWithoutAcknowledgeIsCaught()
        {
            Probe();
            Assert.Equal(DriverError.Ok, _vdev.virtio_reset_device());
            Vp.vp_modern_set_status(VirtioStatus.DRIVER);
            AssertOnly("DRIVER without ACKNOWLEDGE");
        }

        [Fact]
        public void FeaturesOkWithoutDriverIsCaught()
        {
            Probe();
            Assert.Equal(DriverError.Ok, _vdev.virtio_reset_device());
            Vp.vp_modern_set_status(VirtioStatus.ACKNOWLEDGE);
            Vp.vp_modern_get_features();
            Vp.vp_modern_set_status(VirtioStatus.ACKNOWLEDGE | VirtioStatus.FEATURES_OK);
            AssertOnly("FEATURES_OK without DRIVER (§3.1.1)");
        }

        [Fact]
        public void FeaturesOkBeforeReadingBothFeatureWordsIsCaught()
        {
            Probe();
            Assert.Equal(DriverError.Ok, _vdev.virtio_begin());
            Io.iowrite32(Vp.Common + VirtioPciRegs.VIRTIO_PCI_COMMON_DFSELECT, 0);   // word 0 only
            Io.ioread32(Vp.Common + VirtioPciRegs.VIRTIO_PCI_COMMON_DF);
            _vdev.virtio_add_status(VirtioStatus.FEATURES_OK);
            AssertOnly("FEATURES_OK before reading both feature words");
        }

        [Fact]
        public void AcceptingAFeatureNotOfferedIsCaught()
        {
            Probe();
            Assert.Equal(DriverError.Ok, _vdev.virtio_begin());
            ulong offered = Vp.vp_modern_get_features();
            Vp.vp_modern_set_features(offered | VirtioFeatures.VIRTIO_F_IN_ORDER);
            _vdev.virtio_add_status(VirtioStatus.FEATURES_OK);
            AssertOnly("driver accepted features not offered: 0x800000000");
            Assert.Equal(0, _dev.Status & VirtioStatus.FEATURES_OK);     // and the device refuses them
        }

        [Fact]
        public void DriverOkWithoutFeaturesOkIsCaught()
        {
            Probe();
            Assert.Equal(DriverError.Ok, _vdev.virtio_begin());
            Vp.vp_modern_get_features();
            _vdev.virtio_device_ready();
            AssertOnly("DRIVER_OK without FEATURES_OK (§3.1.1)");
        }

        [Fact]
        public void DriverFeaturesWrittenAfterFeaturesOkAreCaught()
        {
            Negotiated();
            Clean();
            Vp.vp_modern_set_features(_vdev.Features);                  // both words again
            AssertOnly("driver_feature written after FEATURES_OK (§3.1.1)", "driver_feature written after FEATURES_OK (§3.1.1)");
        }

        [Fact]
        public void ReinitializingBeforeTheResetReadsBackZeroIsCaught()
        {
            Negotiated();
            Clean();
            Vp.vp_modern_set_status(0);                                 // reset ...
            Vp.vp_modern_set_status(VirtioStatus.ACKNOWLEDGE);          // ... and on, without reading status
            AssertOnly("common+0x14 written before device_status read back 0 after the reset (§4.1.4.3.2)");
        }

        // ---- queue set-up (§4.1.4.3.2, §3.1.1 step 7) -----------------------------------

        [Fact]
        public void QueueRegisterWithQueueSelectBeyondNumQueuesIsCaught()
        {
            Negotiated();
            Clean();
            Vp.vp_modern_set_queue_size(1, 8);                          // the device has queue 0 only
            AssertOnly("queue register common+0x18 written with queue_select 1 >= num_queues");
        }

        [Theory]
        [InlineData(0UL, 6, "queue_size 6 invalid (max 8, power of 2)")]                  // split: power of 2
        [InlineData(0UL, 16, "queue_size 16 invalid (max 8, power of 2)")]                // more than offered
        [InlineData(0UL, 0, "queue_size 0 invalid (max 8, power of 2)")]
        [InlineData(1UL << 34, 0, "queue_size 0 invalid (max 8)")]                        // packed: any but 0
        public void InvalidQueueSizeIsCaught(ulong packed, int size, string expected)
        {
            Negotiated(new SimVirtioOptions { Features = QemuRng | packed });
            Clean();
            Vp.vp_modern_set_queue_size(0, (ushort)size);
            AssertOnly(expected);
        }

        [Fact]
        public void QueueEnableWithZeroIsCaught()
        {
            Negotiated();
            Clean();
            Vp.vp_modern_set_queue_enable(0, false);
            AssertOnly("queue_enable written with a value other than 1 (§4.1.4.3.2)");
        }

        [Fact]
        public void QueueEnabledBeforeItsAddressesIsCaught()
        {
            Negotiated();
            Clean();
            Vp.vp_modern_set_queue_enable(0, true);
            AssertOnly("queue enabled before its addresses were set (§4.1.4.3.2)");
        }

        [Fact]
        public void QueueRegisterWrittenWhileTheQueueIsEnabledIsCaught()
        {
            QueuesEnabled();
            Clean();
            Vp.vp_modern_set_queue_enable(0, true);                     // enabled twice
            AssertOnly("queue 0 register common+0x1c written while the queue is enabled (§4.1.4.3.2)");
        }

        [Fact]
        public void QueueRegisterWrittenAfterDriverOkIsCaught()
        {
            Live(new SimVirtioOptions { NumQueues = 2 });                // the driver set up queue 0 only
            Vp.vp_modern_set_queue_size(1, 8);
            AssertOnly("queue register common+0x18 written after DRIVER_OK (§3.1.1 step 7)");
        }

        [Theory]
        [InlineData(0UL, 8, 0, 0, "ring areas misaligned (§2.7: 16/2/4)")]
        [InlineData(0UL, 0, 1, 0, "ring areas misaligned (§2.7: 16/2/4)")]
        [InlineData(0UL, 0, 0, 2, "ring areas misaligned (§2.7: 16/2/4)")]
        [InlineData(1UL << 34, 8, 0, 0, "ring areas misaligned (§2.8.10.1: 16/4/4)")]
        [InlineData(1UL << 34, 0, 2, 0, "ring areas misaligned (§2.8.10.1: 16/4/4)")]
        [InlineData(1UL << 34, 0, 0, 2, "ring areas misaligned (§2.8.10.1: 16/4/4)")]
        public void MisalignedRingAreaIsCaught(ulong packed, int descOff, int driverOff, int deviceOff, string expected)
        {
            Negotiated(new SimVirtioOptions { Features = QemuRng | packed });
            DmaBuffer ring = Dma.AllocCoherent(4096);                   // room for every area of an 8-entry ring
            Clean();
            Vp.vp_modern_queue_address(0, ring.Phys + (ulong)descOff, ring.Phys + 0x200 + (ulong)driverOff, ring.Phys + 0x400 + (ulong)deviceOff);
            Vp.vp_modern_set_queue_enable(0, true);
            AssertOnly(expected);
        }

        [Fact]
        public void RingOutsideDriverMemoryIsCaught()
        {
            Negotiated();
            DmaBuffer ring = Dma.AllocCoherent(4096);
            Clean();
            Vp.vp_modern_queue_address(0, 0x10000, ring.Phys + 0x200, ring.Phys + 0x400);   // never allocated
            Vp.vp_modern_set_queue_enable(0, true);
            AssertOnly("ring area 0x10000 len 128 (descriptor table) is not in driver DMA memory");
        }

        // ---- notifications (§4.1.5.2) --------------------------------------------------

        [Fact]
        public void NotifyBeforeDriverOkIsCaught()
        {
            Virtqueue vq = QueuesEnabled();
            Clean();
            Assert.True(vq.virtqueue_notify());
            AssertOnly("notify before DRIVER_OK (§3.1.1)");
        }

        [Fact]
        public void NotifyWithTheWrongWidthIsCaught()
        {
            Live();
            Io.iowrite32(Vp.NotifyBase, 0);
            AssertOnly("notify written with width 4 (must be 16-bit, §4.1.5.2)");
        }

        [Fact]
        public void NotifyOfAQueueThatDoesNotExistIsCaught()
        {
            Live();
            Io.iowrite16(Vp.NotifyBase, 3);
            AssertOnly("notify of queue 3 that does not exist");
        }

        [Fact]
        public void NotifyOfAQueueThatIsNotEnabledIsCaught()
        {
            Live(new SimVirtioOptions { NumQueues = 2 });
            Io.iowrite16(Vp.NotifyBase + 4, 1);                         // queue 1's own address, but never enabled
            AssertOnly("notify of queue 1 that is not enabled");
        }

        [Fact]
        public void NotifyAtAnotherQueuesAddressIsCaught()
        {
            Live();
            Io.iowrite16(Vp.NotifyBase + 4, 0);                         // queue_notify_off 0 x 4 = +0
            AssertOnly("queue 0 notified at notify+0x4, expected +0x0");
        }
    }
}
