using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // The virtio-mmio transport (spec 4.2), both versions, driven by the same driver sources
    // as the kernel against a register-level simulated device behind a wired line.
    public sealed unsafe class VirtioMmioTests : HalTest
    {
        private static VirtioMmioSlot Slot(SimMmioDevice dev, bool line = true) => new VirtioMmioSlot
        {
            Phys = dev.Base, Size = 0x200,
            Irq = new WiredIrq { Number = dev.Line, Valid = line },
        };

        private static (DriverError e, VirtioRng[] r) Start(params SimMmioDevice[] devs)
        {
            var p = new SimPlatform();
            p.MmioDevices.AddRange(devs);
            DriverError e = DriverStack.Start(null, null, devs.Select(d => Slot(d)).ToArray(), out VirtioRng[] r);
            return (e, r);
        }

        [Theory]
        [InlineData(2u)]
        [InlineData(1u)]
        public void EntropyFlowsWithInterruptsOnBothVersions(uint version)
        {
            var dev = new SimMmioDevice(version);
            var (e, r) = Start(dev);
            Assert.Equal(DriverError.Ok, e);
            VirtioRng rng = r.Single();
            Assert.Equal(VirtioIrqMode.Wired, rng.IrqMode);
            Assert.Equal(version == 1 ? VirtioTransportKind.MmioLegacy : VirtioTransportKind.MmioModern, rng.Transport.Kind);

            byte[] got = ReadAll(rng, 1000, 70000, 4096);
            Assert.Equal(dev.Produced.Take(got.Length), got);
            Assert.True(rng.Interrupts > 0, "no interrupt arrived through the line");
            Assert.True(dev.Acks > 0, "InterruptACK never written");
            Assert.Equal(0u, dev.InterruptStatus);            // every interrupt acknowledged
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
            Assert.Empty(InterruptController.Errors);         // a level line left asserted would be reported here
            Assert.Equal(DriverError.Ok, rng.virtrng_remove());
        }

        [Fact]
        public void LegacyRingIsOneBlockWithTheUsedRingOnAPageBoundary()
        {
            var dev = new SimMmioDevice(1);
            var (e, _) = Start(dev);
            Assert.Equal(DriverError.Ok, e);
            Assert.Equal(4096u, dev.GuestPageSize);
            Assert.Equal(4096u, dev.QueueAlign);
            Assert.Equal(0UL, dev.Desc % 4096);
            Assert.Equal(dev.Desc, (ulong)dev.QueuePfn * 4096);
            Assert.Equal(dev.Desc + 4096, dev.Device);           // 8 entries: desc + avail fit the first page
            Assert.Equal(0x07u, dev.Status);                      // ACKNOWLEDGE | DRIVER | DRIVER_OK: no FEATURES_OK on legacy
            Assert.Equal(0UL, dev.DriverFeatures >> 32);          // 32 feature bits
        }

        [Fact]
        public void NoLineMeansPolling()
        {
            var dev = new SimMmioDevice(2);
            var p = new SimPlatform();
            p.MmioDevices.Add(dev);
            Assert.Equal(DriverError.Ok, DriverStack.Start(null, null, new[] { Slot(dev, line: false) }, out VirtioRng[] r));
            Assert.Equal(VirtioIrqMode.Polling, r[0].IrqMode);
            Assert.Contains("falling back", LogText);
            byte[] got = ReadAll(r[0], 5000);
            Assert.Equal(dev.Produced.Take(got.Length), got);
            Assert.Equal(0UL, r[0].Interrupts);
        }

        [Fact]
        public void WrongMagicIsAClearErrorNamingTheSlot()
        {
            var dev = new SimMmioDevice(2) { Magic = 0x12345678 };
            var (e, r) = Start(dev);
            Assert.Equal(DriverError.MmioBadMagic, e);
            Assert.Empty(r);
            Assert.Contains("a003e00.virtio_mmio: wrong magic value 0x12345678", LogText);
        }

        [Fact]
        public void VersionThreeIsAClearError()
        {
            var dev = new SimMmioDevice(2) { Version = 3 };
            var (e, _) = Start(dev);
            Assert.Equal(DriverError.MmioBadVersion, e);
            Assert.Contains("a003e00.virtio_mmio: version 3 not supported", LogText);
        }

        [Fact]
        public void DeviceIdZeroIsAnEmptySlotSkippedQuietly()
        {
            var empty = new SimMmioDevice(1) { DeviceId = 0, Base = 0x0a000000 };
            var dev = new SimMmioDevice(1);
            var (e, r) = Start(empty, dev);
            Assert.Equal(DriverError.Ok, e);
            Assert.Single(r);
            Assert.DoesNotContain("a000000", LogText);             // not a word about the placeholder
            Assert.Empty(empty.SpecViolations);
            Assert.Equal(0u, empty.Status);                        // never touched beyond the id
        }

        [Fact]
        public void OnlyEmptySlotsMeanNoDevice()
        {
            var (e, r) = Start(new SimMmioDevice(1) { DeviceId = 0 });
            Assert.Equal(DriverError.NoVirtioDevice, e);
            Assert.Empty(r);
        }

        [Fact]
        public void QueueNumMaxZeroIsRefused()
        {
            var dev = new SimMmioDevice(2) { QueueNumMax = 0 };
            var (e, _) = Start(dev);
            Assert.Equal(DriverError.QueueNotAvailable, e);
            Assert.Contains("QueueNumMax reads 0", LogText);
            Assert.Equal(0x80u, dev.Status & 0x80);                // FAILED
        }

        [Theory]
        [InlineData(2u, "QueueReady is not 0")]
        [InlineData(1u, "QueuePFN is not 0")]
        public void AQueueAlreadyLiveIsRefused(uint version, string message)
        {
            var dev = new SimMmioDevice(version) { QueueLiveAtStart = true };
            // A reset clears it on a real device; this one stays live to see the check.
            var t = VirtioMmioTransport.virtio_mmio_probe(SlotOf(dev), out DriverError pe);
            Assert.Equal(DriverError.Ok, pe);
            var vdev = new VirtioDevice(t);
            Assert.Equal(DriverError.Ok, vdev.virtio_negotiate(0, 0));
            dev.QueueLiveAtStart = true;
            var vqs = new Virtqueue[1];
            Assert.Equal(DriverError.QueueAlreadyEnabled, vdev.virtio_find_vqs(vqs, 0, null, polling: true));
            Assert.Contains(message, LogText);
            Assert.Null(vqs[0]);
        }

        private static VirtioMmioSlot SlotOf(SimMmioDevice dev)
        {
            new SimPlatform().MmioDevices.Add(dev);
            return Slot(dev);
        }

        [Fact]
        public void RefusedFeaturesOkSetsFailed()
        {
            var dev = new SimMmioDevice(2) { RefuseFeaturesOk = true };
            var (e, _) = Start(dev);
            Assert.Equal(DriverError.FeaturesRefused, e);
            Assert.Equal(0x80u, dev.Status & 0x80);
        }

        [Fact]
        public void VersionTwoWithoutVersion1FeatureIsRefused()
        {
            var dev = new SimMmioDevice(2);
            dev.Features &= ~(1UL << 32);
            var (e, _) = Start(dev);
            Assert.Equal(DriverError.MissingRequiredFeatures, e);
            Assert.Contains("VERSION_1", LogText);
        }

        // What Linux 6.1's virtio_mmio.c does (virtio_mmio_probe, vm_reset, vm_get_features,
        // vm_finalize_features, vm_setup_vq, with virtio.c's status steps), in order.
        // "deviation" entries are GuestOS's own: the reset is read back until 0 (spec 2.4;
        // Linux's vm_reset writes and moves on). "addr" values carry ring addresses.
        private static List<string> LinuxMmioOrder(uint version)
        {
            var o = new List<string>
            {
                "R32 +0x00 = 0x74726976",               // virtio_mmio_probe: MagicValue
                $"R32 +0x04 = 0x{version:x}",           //   Version
                "R32 +0x08 = 0x4",                      //   DeviceID
                "R32 +0x0c = 0x554d4551",               //   VendorID
            };
            if (version == 1) o.Add("W32 +0x28 = 0x1000");   //   legacy: GuestPageSize = PAGE_SIZE
            o.AddRange(new[]
            {
                "W32 +0x70 = 0x0",                      // register_virtio_device -> virtio_reset_device -> vm_reset
                "R32 +0x70 = 0x0",                      //   (deviation: read back until 0)
                "R32 +0x70 = 0x0", "W32 +0x70 = 0x1",   // virtio_add_status(ACKNOWLEDGE)
                "R32 +0x70 = 0x1", "W32 +0x70 = 0x3",   // virtio_add_status(DRIVER)
                "W32 +0x14 = 0x1",                      // vm_get_features: high word first
                version == 2 ? "R32 +0x10 = 0x101" : "R32 +0x10 = 0x0",
                "W32 +0x14 = 0x0",
                version == 2 ? "R32 +0x10 = 0x30000000" : "R32 +0x10 = 0x39000000",
                "W32 +0x24 = 0x1",                      // vm_finalize_features: high word, then low
                version == 2 ? "W32 +0x20 = 0x101" : "W32 +0x20 = 0x0",
                "W32 +0x24 = 0x0",
                "W32 +0x20 = 0x30000000",
            });
            if (version == 2) o.AddRange(new[] { "R32 +0x70 = 0x3", "W32 +0x70 = 0xb", "R32 +0x70 = 0xb" });   // virtio_features_ok
            o.Add("W32 +0x30 = 0x0");                                           // vm_setup_vq: QueueSel
            o.Add(version == 2 ? "R32 +0x44 = 0x0" : "R32 +0x40 = 0x0");        //   not live yet
            o.Add("R32 +0x34 = 0x8");                                           //   QueueNumMax
            o.Add("W32 +0x38 = 0x8");                                           //   QueueNum
            if (version == 2)
                o.AddRange(new[] { "W32 +0x80 = addr", "W32 +0x84 = addr", "W32 +0x90 = addr", "W32 +0x94 = addr",
                                   "W32 +0xa0 = addr", "W32 +0xa4 = addr", "W32 +0x44 = 0x1" });
            else
                o.AddRange(new[] { "W32 +0x3c = 0x1000", "W32 +0x40 = addr" });
            o.AddRange(version == 2 ? new[] { "R32 +0x70 = 0xb", "W32 +0x70 = 0xf" }     // virtio_device_ready
                                    : new[] { "R32 +0x70 = 0x3", "W32 +0x70 = 0x7" });
            return o;
        }

        [Theory]
        [InlineData(2u)]
        [InlineData(1u)]
        public void RegisterOrderIsLinuxsVirtioMmio(uint version)
        {
            var dev = new SimMmioDevice(version);
            var (e, _) = Start(dev);
            Assert.Equal(DriverError.Ok, e);
            List<string> ours = TraceQuery.Region(dev.Base, 0x200);
            int driverOk = ours.FindIndex(a => a == (version == 2 ? "W32 +0x70 = 0xf" : "W32 +0x70 = 0x7"));
            Assert.True(driverOk > 0, "no DRIVER_OK write");
            ours = ours.Take(driverOk + 1).ToList();
            var addrRegs = new[] { "+0x80", "+0x84", "+0x90", "+0x94", "+0xa0", "+0xa4", "+0x40" };
            for (int i = 0; i < ours.Count; i++)
                foreach (var reg in addrRegs)
                    if (ours[i].StartsWith("W32 " + reg + " ") && !(reg == "+0x40" && version == 2))
                        ours[i] = $"W32 {reg} = addr";
            Assert.Equal(LinuxMmioOrder(version), ours);
            Assert.Empty(dev.SpecViolations);
        }

        // Device configuration (spec 4.2.2, offset 0x100), as vm_get reads it: version 2 at the
        // field's own width, the legacy version 1 a byte at a time (Linux: "for (i = 0; i < len; i++)
        // ptr[i] = readb(...)"); ConfigGeneration only on version 2.
        [Theory]
        [InlineData(2u, new[] { 4 }, 1)]
        [InlineData(1u, new[] { 1, 1, 1, 1 }, 0)]
        public void ConfigurationIsReadAtTheWidthsEachVersionAllows(uint version, int[] widths, int generationReads)
        {
            var dev = new SimMmioDevice(version);
            var t = VirtioMmioTransport.virtio_mmio_probe(SlotOf(dev), out DriverError e);
            Assert.Equal(DriverError.Ok, e);
            int before = IoBus.Trace.Count;
            t.config_read32(4);
            var config = IoBus.Trace.Skip(before).ToList();
            Assert.Equal(widths, config.Select(a => a.Width).ToArray());
            Assert.All(config, a => Assert.InRange(a.Addr - dev.Base, 0x104UL, 0x107UL));
            before = IoBus.Trace.Count;
            t.config_generation();
            Assert.Equal(generationReads, IoBus.Trace.Count - before);
            Assert.Empty(dev.SpecViolations);
        }
    }
}
