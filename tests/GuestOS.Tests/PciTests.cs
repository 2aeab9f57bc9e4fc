using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Rng;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    public sealed class PciConfigAccessTests : HalTest
    {
        [Fact]
        public void PortMechanismEncodesAddressAndUsesDataPortOffsets()
        {
            Assert.Equal(0x80000000u | (1u << 16) | (2u << 11) | (3u << 8) | 0x44u, PciConfigPort.ConfigAddress(1, 2, 3, 0x47));

            var p = new SimPlatform();
            var f = p.Root.Add(5, 0, new SimPciFunction(0x1234, 0x5678, 0x020000, 0, 6));
            var cfg = new PciConfigPort();
            IoBus.Trace.Clear();
            Assert.Equal((ushort)0x5678, cfg.Read16(0, 5, 0, 2));
            Assert.Equal(new[] { "W32 port 0xcf8 = 0x80002800", "R16 port 0xcfe = 0x5678" }, IoBus.Trace.Select(a => a.ToString()));
            Assert.Equal((byte)0x02, cfg.Read8(0, 5, 0, 0x0B));
            Assert.Equal("R8 port 0xcff = 0x2", IoBus.Trace.Last().ToString());
            cfg.Write8(0, 5, 0, 0x3C, 0x2A);
            Assert.Equal(0x2A, f.Config[0x3C]);
            Assert.Equal(0xFFFFFFFFu, cfg.Read32(0, 6, 0, 0));          // nobody home
            IoBus.Trace.Clear();
            Assert.Equal(0xFFFFFFFFu, cfg.Read32(0, 5, 0, 0x100));      // beyond 256 bytes: not reachable, no access
            Assert.Empty(IoBus.Trace);
        }

        [Fact]
        public void EcamMapsBusRangeAndComputesAddresses()
        {
            var p = new SimPlatform { EcamBase = 0x4010000000, EcamFirstBus = 0, EcamLastBus = 15, PortConfig = false };
            p.Root.Add(3, 2, new SimPciFunction(0x1af4, 0x1044, 0x00ff00, 0, 6));
            var e = PciConfigEcam.Map(0x4010000000, 0, 15);
            Assert.NotNull(e);
            Assert.Equal((0x4010000000UL, 16UL << 20), IoBus.Remaps.Single());
            Assert.Equal(0x4010000000UL + (3UL << 15) + (2UL << 12) + 0x10, e.MapBus(0, 3, 2, 0x10));
            Assert.Equal(0x4010000000UL + (7UL << 20), e.MapBus(7, 0, 0, 0));
            Assert.Equal(0UL, e.MapBus(16, 0, 0, 0));
            Assert.Equal(0x10441af4u, e.Read32(0, 3, 2, 0));
            Assert.Equal((ushort)0x1044, e.Read16(0, 3, 2, 2));
            IoBus.Trace.Clear();
            Assert.Equal(0xFFFFFFFFu, e.Read32(16, 0, 0, 0));
            Assert.Empty(IoBus.Trace);
        }

        [Fact]
        public void EcamMapFailureIsReported()
        {
            IoBus.RemapFails = true;
            Assert.Null(PciConfigEcam.Map(0x4010000000, 0, 255));
            Assert.Contains("ECAM: ioremap", LogText);
            Assert.Equal(DriverError.EcamMapFailed, DriverStack.Start(null, null, out VirtioRng[] r));
            Assert.Empty(r);
        }
    }

    public sealed class PciScanTests : HalTest
    {
        private readonly Xunit.Abstractions.ITestOutputHelper _out;
        public PciScanTests(Xunit.Abstractions.ITestOutputHelper o) { _out = o; }

        private static string Bdf(PciDevice d) => $"{d.Bus:x2}:{d.Dev:x2}.{d.Fn}";

        [Fact]
        public void MultiFunctionDevicesAreScannedOnlyWhenFunctionZeroSaysSo()
        {
            var m = TestMachine.Virt();
            var root = m.P.Root;
            var mf0 = root.Add(2, 0, new SimPciFunction(0x8086, 0x2918, 0x060100, 0, 6));
            mf0.MultiFunction = true;
            root.Add(2, 1, new SimPciFunction(0x8086, 0x2922, 0x010601, 0, 6));
            root.Add(2, 3, new SimPciFunction(0x8086, 0x2930, 0x0c0500, 0, 6));
            root.Add(3, 0, new SimPciFunction(0x1234, 0x1111, 0x030000, 0, 6));   // not multi-function ...
            root.Add(3, 4, new SimPciFunction(0x1234, 0x2222, 0x030000, 0, 6));   // ... so fn 4 is never looked at
            root.Add(4, 5, new SimPciFunction(0x1234, 0x3333, 0x030000, 0, 6));   // no function 0: slot empty

            PciDevice[] devs = PciScan.Enumerate(m.Cfg, m.Windows);
            Assert.Equal(new[] { "00:00.0", "00:02.0", "00:02.1", "00:02.3", "00:03.0" }, devs.Select(Bdf));
            Assert.True(devs[1].MultiFunction);
            Assert.Equal(0x010601u, devs[2].ClassCode);
            Assert.Equal((ushort)0x2930, devs[3].DeviceId);
        }

        [Fact]
        public unsafe void BridgesGetBusNumbersAndWindowsAndTheDeviceBehindThemWorks()
        {
            var m = TestMachine.Virt();
            var a = m.P.Root.Add(1, 0, new SimBridge());
            var b = a.Secondary.Add(0, 0, new SimBridge());
            var rng = b.Secondary.Add(0, 0, new SimVirtioDevice());
            var nic = a.Secondary.Add(3, 0, new SimPciFunction(0x8086, 0x100e, 0x020000, 0, 6));
            nic.DefineBar(0, SimBarKind.Mem32, 0x20000);
            nic.DefineBar(1, SimBarKind.Io, 0x40);
            var c = m.P.Root.Add(2, 0, new SimBridge(pref64: false, hasIo: false));   // empty slot behind it

            DriverError e = DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] rngs);
            _out.WriteLine(LogText);
            Assert.Equal(DriverError.Ok, e);

            // Depth-first numbering: a -> 1, b -> 2, c -> 3.
            Assert.Equal((0, 1, 2), (a.Config[0x18], a.Config[0x19], a.Config[0x1A]));
            Assert.Equal((1, 2, 2), (b.Config[0x18], b.Config[0x19], b.Config[0x1A]));
            Assert.Equal((0, 3, 3), (c.Config[0x18], c.Config[0x19], c.Config[0x1A]));
            Assert.Contains("pci: 02:00.0 [00ff]", LogText);
            Assert.Contains("pci 00:01.0: bridge buses 0 -> 1..2, windows mem 0x10000000-0x101fffff io 0x1000-0x1fff pref off", LogText);
            Assert.Contains("pci 00:02.0: bridge buses 0 -> 3..3, windows mem off io off pref off", LogText);
            Assert.Contains("pci 01:03.0: BAR1 io size 0x40 <- 0x1000 (CPU 0x3eff1000)", LogText);
            Assert.Contains("pci: 01:03.0 [0200]", LogText);

            // Every BAR behind a bridge lies inside each upstream bridge's forwarding windows.
            foreach (var (dev, bridges) in new (SimPciFunction, SimBridge[])[] { (rng, new[] { a, b }), (nic, new[] { a }) })
            {
                for (int i = 0; i < dev.Bars.Length; i++)
                {
                    if (dev.Bars[i].Kind == SimBarKind.None) continue;
                    ulong addr = dev.BarAddress(i);
                    Assert.NotEqual(0UL, addr);
                    foreach (var br in bridges)
                    {
                        if (dev.Bars[i].Kind == SimBarKind.Io) Assert.True(br.ForwardsIo(addr) && br.ForwardsIo(addr + dev.Bars[i].Size - 1), $"io {addr:x}");
                        else Assert.True(br.ForwardsMem(addr) && br.ForwardsMem(addr + dev.Bars[i].Size - 1), $"mem {addr:x}");
                    }
                }
            }
            // The empty bridge forwards nothing.
            Assert.True(c.MemBase > c.MemLimit);

            // And the entropy device two bridges down is reachable and works.
            byte* buf = stackalloc byte[32];
            Assert.Equal(32L, rngs.Single().virtio_read(buf, 32));
            Assert.Empty(rng.SpecViolations);
            Assert.Empty(m.P.Unclaimed);
        }

        [Fact]
        public void FirmwareModeFollowsProgrammedBusNumbersAndSurvivesBadBridges()
        {
            var p = new SimPlatform();
            p.Root.Add(0, 0, new SimPciFunction(0x8086, 0x29c0, 0x060000, 0, 6));
            var a = p.Root.Add(1, 0, new SimBridge());
            a.W8(0x18, 0); a.W8(0x19, 1); a.W8(0x1A, 1);
            a.Secondary.Add(0, 0, new SimPciFunction(0x1234, 0xaaaa, 0x020000, 0, 6));
            var bad = p.Root.Add(2, 0, new SimBridge());        // secondary 0: never configured
            bad.Secondary.Add(0, 0, new SimPciFunction(0x1234, 0xbbbb, 0x020000, 0, 6));
            var dup = p.Root.Add(3, 0, new SimBridge());        // claims bus 1 again
            dup.W8(0x19, 1); dup.W8(0x1A, 1);

            PciDevice[] devs = PciScan.Enumerate(new PciConfigPort(), null);
            Assert.Equal(new[] { "00:00.0", "00:01.0", "01:00.0", "00:02.0", "00:03.0" }, devs.Select(Bdf));
            Assert.Equal(2, LogText.Split('\n').Count(l => l.Contains("not followed")));
            Assert.Equal(0, a.Config[0x20] | bad.Config[0x19]);   // nothing was (re)programmed
        }

        [Fact]
        public void FirmwareBridgePointingBackToALowerBusIsNotFollowed()
        {
            // 00:01.0 -> bus 2 (02:00.0 is a bridge claiming bus 1, below its own bus 2);
            // 00:02.0 -> bus 1, which really holds the NIC.
            var p = new SimPlatform();
            var a = p.Root.Add(1, 0, new SimBridge());
            a.W8(0x19, 2); a.W8(0x1A, 3);
            var b = a.Secondary.Add(0, 0, new SimBridge());
            b.W8(0x18, 2); b.W8(0x19, 1); b.W8(0x1A, 1);
            var c = p.Root.Add(2, 0, new SimBridge());
            c.W8(0x19, 1); c.W8(0x1A, 1);
            c.Secondary.Add(0, 0, new SimPciFunction(0x8086, 0x100e, 0x020000, 0, 6));

            PciDevice[] devs = PciScan.Enumerate(new PciConfigPort(), null);
            PciDevice nic = devs.Single(d => d.DeviceId == 0x100e);
            Assert.Equal(1u, nic.Bus);
            Assert.Equal((0u, 2u), (nic.Parent.Bus, nic.Parent.Dev));     // found through 00:02.0, not 02:00.0
            Assert.Contains("pci 02:00.0: bridge secondary bus 1 unusable", LogText);
        }

        [Fact]
        public void RunningOutOfBusNumbersIsReportedNotFatal()
        {
            var p = new SimPlatform { EcamBase = TestMachine.VirtEcam, EcamLastBus = 1, PortConfig = false };
            var a = p.Root.Add(1, 0, new SimBridge());
            a.Secondary.Add(0, 0, new SimBridge());
            var cfg = PciConfigEcam.Map(TestMachine.VirtEcam, 0, 1);
            PciDevice[] devs = PciScan.Enumerate(cfg, TestMachine.VirtWindows());
            Assert.Equal(2, devs.Length);
            Assert.Contains("no bus number left", LogText);
        }
    }

    public sealed class PciBarTests : HalTest
    {
        [Theory]
        [InlineData(0xFFFFF000UL, 0x1000UL)]
        [InlineData(0xFFFFFFE0UL, 0x20UL)]
        [InlineData(0xFFFFFFFE00000000UL, 0x200000000UL)]
        [InlineData(0xFFFFFFFFFFFFC000UL, 0x4000UL)]
        [InlineData(0UL, 0UL)]
        public void SizeIsTheLowestSetBitOfTheMask(ulong mask, ulong size)
        {
            Assert.Equal(size, PciBar.SizeFromMask(mask));
        }

        private static SimPciFunction Zoo()
        {
            var f = new SimPciFunction(0x1234, 0x0001, 0x020000, 0, 6);
            f.DefineBar(0, SimBarKind.Io, 0x20, io16: true);
            f.DefineBar(1, SimBarKind.Mem32, 0x1000);
            f.DefineBar(2, SimBarKind.Mem64, 0x200000000, prefetchable: true);   // 8 GiB
            f.DefineBar(4, SimBarKind.Mem64, 0x4000);
            return f;
        }

        [Fact]
        public void SizingDecodesEveryKindWithDecodingOffMeanwhile()
        {
            var p = new SimPlatform();
            var f = p.Root.Add(1, 0, Zoo());
            f.PresetBar(1, 0xfe001000);
            f.W16(0x04, 0x0003);
            PciDevice d = PciScan.Enumerate(new PciConfigPort(), null).Single();
            Assert.Null(d.Bars);   // firmware assigned them: sized only when asked
            d.SizeBars();
            PciBar[] b = d.Bars;
            Assert.Equal((PciBarKind.Io, 0x20UL, false), (b[0].Kind, b[0].Size, b[0].Prefetchable));
            Assert.Equal((PciBarKind.Mem32, 0x1000UL, 0xfe001000UL), (b[1].Kind, b[1].Size, b[1].Address));
            Assert.Equal((PciBarKind.Mem64, 0x200000000UL, true), (b[2].Kind, b[2].Size, b[2].Prefetchable));
            Assert.Equal(PciBarKind.Mem64Upper, b[3].Kind);
            Assert.Equal((PciBarKind.Mem64, 0x4000UL), (b[4].Kind, b[4].Size));
            Assert.Equal(PciBarKind.Mem64Upper, b[5].Kind);

            // Command off first, then the BARs, then the command restored; BARs kept their value.
            Assert.Equal("W16 +0x04 = 0x0", f.ConfigWrites.First());
            Assert.Equal("W16 +0x04 = 0x3", f.ConfigWrites.Last());
            Assert.All(f.ConfigWrites.Skip(1).SkipLast(1), w => Assert.Matches(@"^W32 \+0x(1[0-9a-f]|2[0-4]) ", w));   // meanwhile only BAR writes
            Assert.Equal(6, f.BarSizingWrites);
            Assert.Equal(0xfe001000UL, f.BarAddress(1));
            Assert.Equal(0x0003, f.Command);
        }

        [Fact]
        public void AssignmentIsNaturallyAlignedInsideTheWindowsWithoutOverlap()
        {
            var m = TestMachine.Virt(Zoo(), Zoo(), new SimVirtioDevice(), new SimVirtioDevice(new SimVirtioOptions { DeviceId = 0x1005, SubsystemId = 4 }));
            PciDevice[] devs = PciScan.Enumerate(m.Cfg, m.Windows);
            var w = m.Windows;
            var ranges = new List<(ulong start, ulong size)>();
            foreach (var d in devs)
            {
                var sim = m.P.FindConfig(d.Bus, d.Dev, d.Fn);
                foreach (var bar in d.Bars.Where(x => x != null && x.IsImplemented))
                {
                    Assert.Equal(0UL, bar.Address % bar.Size);                           // natural alignment
                    Assert.Equal(bar.Address, sim.BarAddress(bar.Index));                // really programmed (both halves)
                    if (bar.Kind == PciBarKind.Io)
                    {
                        Assert.InRange(bar.Address, 0x1000UL, w.IoBase + w.IoSize - bar.Size);
                        Assert.Equal(w.IoCpuBase + bar.Address - w.IoBase, bar.CpuAddress);
                    }
                    else if (bar.Size == 0x200000000)
                        Assert.InRange(bar.Address, w.Mem64Base, w.Mem64Base + w.Mem64Size - bar.Size);   // too big for 32-bit
                    else
                        Assert.InRange(bar.Address, w.Mem32Base, w.Mem32Base + w.Mem32Size - bar.Size);
                    ranges.Add((bar.Address + (bar.Kind == PciBarKind.Io ? 1UL << 48 : 0), bar.Size));
                }
            }
            var sorted = ranges.OrderBy(r => r.start).ToList();
            for (int i = 1; i < sorted.Count; i++) Assert.True(sorted[i - 1].start + sorted[i - 1].size <= sorted[i].start, "BARs overlap");
            Assert.Equal(2, devs.Count(d => d.Bars.Any(b => b.Address >= 0x100000000UL)));
        }

        [Fact]
        public unsafe void Mem64PreferredPutsSixtyFourBitBarsAboveFourGiB()
        {
            var dev = new SimVirtioDevice();
            var m = TestMachine.Virt(dev);
            m.Windows.Mem64Preferred = true;
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Equal(0x8000000000UL, dev.BarAddress(4));
            Assert.Equal(0x8000000000UL, (ulong)dev.R32(0x24) << 32 | (dev.R32(0x20) & ~0xFu));
            Assert.InRange(dev.BarAddress(1), 0x10000000UL, 0x3effffffUL);
            Assert.Contains(IoBus.Remaps, x => x.Phys == 0x8000000000UL);   // the common config was ioremapped there
            byte* b = stackalloc byte[8];
            Assert.Equal(8L, r[0].virtio_read(b, 8));
        }

        [Fact]
        public void ExhaustedWindowLeavesBarUnassignedAndBringUpSaysSo()
        {
            var dev = new SimVirtioDevice();
            var m = TestMachine.Virt(dev);
            m.Windows.Mem32Size = 0x2000;     // room for the MSI-X BAR only
            m.Windows.Mem64Size = 0;
            Assert.Equal(DriverError.BarNotAssigned, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Empty(r);
            Assert.Contains("no room for BAR4", LogText);
            Assert.Equal(0UL, dev.BarAddress(4));
            Assert.Equal(0x10000000UL, dev.BarAddress(1));
        }
    }
}
