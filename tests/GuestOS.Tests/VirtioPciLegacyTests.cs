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
    // The legacy virtio-pci interface (spec 4.1.4.8): a transitional function with no modern
    // capabilities, as QEMU's virtio-rng-pci,disable-modern=on is, driven through I/O BAR 0 -
    // ports on x86, the host bridge's I/O window on arm64 virt.
    public sealed unsafe class VirtioPciLegacyTests : HalTest
    {
        private static SimVirtioDevice LegacyDevice(ushort vectors = 2) => new SimVirtioDevice(new SimVirtioOptions
        {
            DeviceId = 0x1005, SubsystemId = 4, MsixVectors = vectors,
            Caps = new List<VirtioCapSpec>(),                 // no COMMON: modern probing finds nothing
            Features = 0x79000000,                            // QEMU 7.2's legacy virtio-rng: bits 24, 27-30
        });

        [Theory]
        [InlineData(true, (ushort)2, VirtioIrqMode.PerQueueVectors)]
        [InlineData(false, (ushort)2, VirtioIrqMode.PerQueueVectors)]
        [InlineData(true, (ushort)0, VirtioIrqMode.Wired)]
        public void EntropyFlowsThroughTheIoBar(bool x86, ushort vectors, VirtioIrqMode mode)
        {
            var (rng, dev) = UpRng(LegacyDevice(vectors), x86);
            Assert.Equal(VirtioTransportKind.PciLegacy, rng.Transport.Kind);
            Assert.Equal(mode, rng.IrqMode);
            Assert.Equal(dev.Produced.Take(70000), ReadAll(rng, 70000));
            Assert.True(rng.Interrupts > 0);
            Assert.True(dev.Legacy);
            Assert.Equal(0x07, dev.Status);                           // no FEATURES_OK on the legacy interface
            Assert.Equal(0x30000000UL, dev.DriverFeatures);           // INDIRECT_DESC, EVENT_IDX: 32 bits only
            Assert.Equal(dev.Q(0).Desc + 4096, dev.Q(0).Device);      // used ring on the next page (2.7.2)
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(InterruptController.Errors);
        }

        // What Linux 6.1 does (virtio_pci_legacy.c over virtio_pci_legacy_dev.c, with virtio.c's
        // status steps and virtio_pci_common.c's MSI-X vectors), in order, to the legacy header.
        private static readonly string[] LinuxOrder =
        {
            "W8 +0x12 = 0x0", "R8 +0x12 = 0x0",       // vp_reset: set_status(0), get_status ("flush")
            "R8 +0x12 = 0x0", "W8 +0x12 = 0x1",       // virtio_add_status(ACKNOWLEDGE)
            "R8 +0x12 = 0x1", "W8 +0x12 = 0x3",       // virtio_add_status(DRIVER)
            "R32 +0x00 = 0x79000000",                 // vp_legacy_get_features
            "W32 +0x04 = 0x30000000",                 // vp_legacy_set_features (no FEATURES_OK: legacy)
            "W16 +0x14 = 0x0", "R16 +0x14 = 0x0",     // vp_legacy_config_vector(0)
            "W16 +0x0e = 0x0", "R16 +0x0c = 0x8",     // setup_vq: vp_legacy_get_queue_size
            "W16 +0x0e = 0x0", "R32 +0x08 = 0x0",     //   vp_legacy_get_queue_enable
            "W16 +0x0e = 0x0", "W32 +0x08 = pfn",     //   vp_legacy_set_queue_address: "activate the queue"
            "W16 +0x0e = 0x0", "W16 +0x16 = 0x1", "R16 +0x16 = 0x1",   // vp_legacy_queue_vector(0, 1)
            "R8 +0x12 = 0x3", "W8 +0x12 = 0x7",       // virtio_device_ready
        };

        [Fact]
        public void RegisterOrderIsLinuxsVirtioPciLegacy()
        {
            var dev = LegacyDevice();
            var (rng, _) = UpRng(dev, x86: true);
            ulong io = dev.BarAddress(0);
            var ours = IoBus.Trace.Where(a => a.Space == IoSpace.Port && a.Addr >= io && a.Addr < io + 0x20)
                .Select(a => $"{(a.Dir == IoDir.Read ? "R" : "W")}{a.Width * 8} +0x{a.Addr - io:x2} = 0x{a.Value:x}").ToList();
            int driverOk = ours.IndexOf("W8 +0x12 = 0x7");
            Assert.True(driverOk > 0);
            ours = ours.Take(driverOk + 1).Select(a => a.StartsWith("W32 +0x08 = ") && a != "W32 +0x08 = 0x0" ? "W32 +0x08 = pfn" : a).ToList();
            Assert.Equal(LinuxOrder, ours);
            Assert.Equal((ulong)dev.LegacyPfn << 12, dev.Q(0).Desc);
        }

        [Fact]
        public void ARefusedQueueVectorDeactivatesTheQueueBeforeFallingBack()
        {
            var dev = LegacyDevice();
            dev.RefuseQueueVector = true;
            var (rng, _) = UpRng(dev, x86: true);
            Assert.Equal(VirtioIrqMode.Wired, rng.IrqMode);           // both MSI-X modes refused, INTx
            Assert.Equal(dev.Produced.Take(20000), ReadAll(rng, 20000));
            Assert.Empty(dev.SpecViolations);
        }
    }
}
