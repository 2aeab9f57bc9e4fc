using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // vp_modern_probe against malformed capability lists (virtio 1.2 §4.1.4).
    public sealed unsafe class VirtioCapabilityTests : HalTest
    {
        private static List<VirtioCapSpec> Caps(params VirtioCapSpec[] caps) => caps.ToList();
        private static VirtioCapSpec Common(uint off = 0) => new VirtioCapSpec { CfgType = 1, Offset = off };
        private static VirtioCapSpec Isr() => new VirtioCapSpec { CfgType = 3, Offset = 0x1000 };
        private static VirtioCapSpec Device() => new VirtioCapSpec { CfgType = 4, Offset = 0x2000 };
        private static VirtioCapSpec Notify(uint mult = 4) => new VirtioCapSpec { CfgType = 2, Offset = 0x3000, Multiplier = mult };

        private (DriverError err, VirtioPciModern vp, SimVirtioDevice dev) Probe(SimVirtioOptions opt)
        {
            var dev = new SimVirtioDevice(opt);
            var m = TestMachine.Virt(dev);
            PciDevice d = PciScan.Enumerate(m.Cfg, m.Windows).Single(x => x.VendorId == 0x1af4);
            d.EnableMemoryAndBusMaster();
            DriverError e = VirtioPciModern.vp_modern_probe(d, out VirtioPciModern vp);
            return (e, vp, dev);
        }

        private (DriverError err, VirtioRng[] rngs, SimVirtioDevice dev) Boot(SimVirtioOptions opt)
        {
            var dev = new SimVirtioDevice(opt);
            var m = TestMachine.Virt(dev);
            DriverError e = DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r);
            return (e, r, dev);
        }

        [Fact]
        public void QemuLayoutProbesAndMapsEveryStructure()
        {
            var (e, vp, dev) = Probe(new SimVirtioOptions());
            Assert.Equal(DriverError.Ok, e);
            ulong bar4 = dev.BarAddress(4);
            Assert.Equal(bar4, vp.Common);
            Assert.Equal(bar4 + 0x1000, vp.Isr);
            Assert.Equal(bar4 + 0x2000, vp.Device);
            Assert.Equal(bar4 + 0x3000, vp.NotifyBase);
            Assert.Equal(0x1000UL, vp.NotifyLen);
            Assert.Equal(4u, vp.NotifyOffMultiplier);
            Assert.Equal(4, vp.VirtioId);
        }

        [Fact]
        public void NoCommonCapabilityMeansLegacyOnly()
        {
            var (e, _, _) = Probe(new SimVirtioOptions { Caps = Caps(Isr(), Device(), Notify()) });
            Assert.Equal(DriverError.NotVirtioModern, e);
            Assert.Contains("leaving for legacy driver", LogText);
            Assert.Equal(DriverError.NotVirtioModern, Boot(new SimVirtioOptions { Caps = Caps(Isr(), Notify()) }).err);
        }

        [Fact]
        public void MissingIsrOrNotifyIsAnError()
        {
            Assert.Equal(DriverError.MissingIsrCap, Probe(new SimVirtioOptions { Caps = Caps(Common(), Notify()) }).err);
            Assert.Equal(DriverError.MissingNotifyCap, Probe(new SimVirtioOptions { Caps = Caps(Common(), Isr()) }).err);
        }

        [Fact]
        public void ShortCapLenIsIgnoredAndALaterGoodOneWins()
        {
            var shortCommon = new VirtioCapSpec { CfgType = 1, Offset = 0x0000, CapLen = 12 };
            Assert.Equal(DriverError.NotVirtioModern, Probe(new SimVirtioOptions { Caps = Caps(shortCommon, Isr(), Notify()) }).err);
            Assert.Contains("cap_len too short", LogText);

            // A NOTIFY capability needs 20 bytes: 16 is too short to hold notify_off_multiplier.
            var shortNotify = new VirtioCapSpec { CfgType = 2, Offset = 0x3000, CapLen = 16 };
            Assert.Equal(DriverError.MissingNotifyCap, Probe(new SimVirtioOptions { Caps = Caps(Common(), Isr(), shortNotify) }).err);

            var (e, vp, dev) = Probe(new SimVirtioOptions { Caps = Caps(new VirtioCapSpec { CfgType = 1, Offset = 0x800, CapLen = 8 }, Common(0), Isr(), Notify()) });
            Assert.Equal(DriverError.Ok, e);
            Assert.Equal(dev.BarAddress(4), vp.Common);
        }

        [Fact]
        public void BarIndexAboveFiveIsIgnored()
        {
            var bad = new VirtioCapSpec { CfgType = 1, Bar = 6, Offset = 0 };
            Assert.Equal(DriverError.NotVirtioModern, Probe(new SimVirtioOptions { Caps = Caps(bad, Isr(), Notify()) }).err);
            Assert.Contains("reserved BAR index (6)", LogText);
            var (e, vp, _) = Probe(new SimVirtioOptions { Caps = Caps(new VirtioCapSpec { CfgType = 3, Bar = 7 }, Common(), Isr(), Notify()) });
            Assert.Equal(DriverError.Ok, e);
        }

        [Fact]
        public void CapabilityInAnUnimplementedBarIsIgnored()
        {
            var e = Probe(new SimVirtioOptions { Caps = Caps(new VirtioCapSpec { CfgType = 1, Bar = 2 }, Isr(), Notify()) }).err;
            Assert.Equal(DriverError.NotVirtioModern, e);
            Assert.Contains("BAR not implemented", LogText);
        }

        [Fact]
        public void RegionOutsideItsBarIsRejected()
        {
            // BAR4 is 16 KiB: common config at 0x3ff0 would run past its end.
            Assert.Equal(DriverError.CapOutsideBar, Probe(new SimVirtioOptions { Caps = Caps(Common(0x3ff0), Isr(), Notify()) }).err);
            Assert.Contains("region outside its BAR", LogText);
            // Notify structure longer than what is left of the BAR.
            var longNotify = new VirtioCapSpec { CfgType = 2, Offset = 0x3000, Length = 0x2000 };
            Assert.Equal(DriverError.CapOutsideBar, Probe(new SimVirtioOptions { Caps = Caps(Common(), Isr(), longNotify) }).err);
            // Offset beyond the BAR entirely (and near 2^32: no wrap-around).
            var far = new VirtioCapSpec { CfgType = 3, Offset = 0xFFFFFFF0, Length = 0x100 };
            Assert.Equal(DriverError.CapOutsideBar, Probe(new SimVirtioOptions { Caps = Caps(Common(), far, Notify()) }).err);
        }

        [Fact]
        public void TooShortOrMisalignedStructuresAreRejected()
        {
            var tiny = new VirtioCapSpec { CfgType = 1, Offset = 0, Length = 0x20 };   // < sizeof(virtio_pci_common_cfg)
            Assert.Equal(DriverError.CapLengthTooShort, Probe(new SimVirtioOptions { Caps = Caps(tiny, Isr(), Notify()) }).err);
            Assert.Equal(DriverError.CapMisaligned, Probe(new SimVirtioOptions { Caps = Caps(Common(0x2), Isr(), Notify()) }).err);
        }

        [Fact]
        public void FirstCapabilityOfEachTypeWins()
        {
            var opt = new SimVirtioOptions { Caps = Caps(Common(0), new VirtioCapSpec { CfgType = 1, Offset = 0x800 }, Isr(), Notify()) };
            var (e, vp, dev) = Probe(opt);
            Assert.Equal(DriverError.Ok, e);
            Assert.Equal(dev.BarAddress(4), vp.Common);
        }

        [Fact]
        public void CapabilityListCycleIsCutAndTheDeviceStillWorks()
        {
            var opt = new SimVirtioOptions();
            var dev = new SimVirtioDevice(opt);
            // Point the last capability (MSI-X) back at the first one.
            int first = dev.Config[0x34];
            int last = first;
            while (dev.Config[last + 1] != 0) last = dev.Config[last + 1];
            dev.Config[last + 1] = (byte)first;
            var m = TestMachine.Virt(dev);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Contains("capability list loops back to 0x40", LogText);
            byte* b = stackalloc byte[4];
            Assert.Equal(4L, r[0].virtio_read(b, 4));
        }

        [Fact]
        public void SelfLoopingCapabilityIsReadOnce()
        {
            var p = new SimPlatform();
            var f = p.Root.Add(1, 0, new SimPciFunction(0x1234, 1, 0x020000, 0, 6));
            f.AddCapability(0x05, new byte[6]);
            f.Config[0x41] = 0x40;
            PciDevice d = PciScan.Enumerate(new PciConfigPort(), null).Single();
            Assert.Equal(1, d.CapCount);
            Assert.True(d.CapListLoops);
            Assert.Equal(0x40u, PciCapabilities.Find(d, 0x05));
            Assert.Equal(0u, PciCapabilities.FindNext(d, 0x40, 0x05));
        }

        [Fact]
        public void NotifyOffMultiplierZeroSharesOneAddress()
        {
            LinuxShapePolling();                                        // a notify per 64 bytes
            var opt = new SimVirtioOptions { Caps = SimVirtioOptions.QemuCaps(multiplier: 0) };
            var dev = new SimVirtioDevice(opt);
            dev.Q(0).NotifyOff = 7;     // ignored: 7 * 0 = 0
            var m = TestMachine.Virt(dev);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Contains("(notify_off_multiplier 0)", LogText);
            byte* b = stackalloc byte[200];
            Assert.Equal(200L, r[0].virtio_read(b, 200));
            Assert.True(dev.Q(0).Notifies >= 4);
            Assert.Empty(dev.SpecViolations);    // the device checks each notify landed at +0
        }

        [Fact]
        public void NotifyOffsetBeyondTheNotifyStructureIsRejected()
        {
            var dev = new SimVirtioDevice();
            dev.Q(0).NotifyOff = 0x400;   // 0x400 * 4 + 2 > 0x1000
            var m = TestMachine.Virt(dev);
            Assert.Equal(DriverError.NotifyOffsetOutOfRange, DriverStack.Start(m.Cfg, m.Windows, out _));
            Assert.Contains("bad notification offset 1024 (x 4) for queue 0", LogText);
            Assert.Equal(0x80, dev.Status & 0x80);   // FAILED
        }

        [Fact]
        public void IoremapFailureIsReported()
        {
            var dev = new SimVirtioDevice();
            var m = TestMachine.Virt(dev);
            PciDevice d = PciScan.Enumerate(m.Cfg, m.Windows).Single(x => x.VendorId == 0x1af4);
            GuestOS.Hal.Hosted.IoBus.RemapFails = true;
            Assert.Equal(DriverError.IoremapFailed, VirtioPciModern.vp_modern_probe(d, out _));
        }
    }
}
