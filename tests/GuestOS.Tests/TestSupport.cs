using System;
using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers.Pci;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

// The hosted HAL is process-wide static state (like the real hardware it stands for):
// tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace GuestOS.Tests
{
    // Every test starts from a clean hosted HAL and leaves no DMA memory behind.
    public abstract class HalTest : IDisposable
    {
        // A device that never answers costs 20 ms of virtual time per read here, not 10 s.
        protected HalTest() { HostedHal.Reset(); ResetRngSettings(); GuestOS.Drivers.Rng.VirtioRng.ProbeTimeoutNs = 20000000; }
        // ... and none that wrote outside it: every DMA allocation's guard bytes still hold the
        // canary (DmaPool), checked before the memory is released.
        public void Dispose()
        {
            List<string> damaged = DmaPool.CheckCanaries();
            HostedHal.Reset();
            ResetRngSettings();
            Assert.True(damaged.Count == 0, "written outside DMA allocations: " + string.Join("; ", damaged.Take(8)));
        }

        private static void ResetRngSettings()
        {
            GuestOS.Drivers.Rng.VirtioRng.ProbeTimeoutNs = 0;
            GuestOS.Drivers.Rng.VirtioRng.ProbeBufferSize = 0;
            GuestOS.Drivers.Rng.VirtioRng.ProbeBuffers = 0;
            GuestOS.Drivers.Rng.VirtioRng.ProbePolling = false;
            // Simulated devices answer within the driver's spin before sleeping, so tests of the
            // interrupt path turn it off; MsixTests' spin tests turn it back on.
            GuestOS.Drivers.Rng.VirtioRng.ProbeNoSpin = true;
        }

        // Linux 6.1's shape: one 64-byte buffer, and no interrupts.
        protected static void LinuxShapePolling()
        {
            GuestOS.Drivers.Rng.VirtioRng.ProbeBufferSize = 64;
            GuestOS.Drivers.Rng.VirtioRng.ProbeBuffers = 1;
            GuestOS.Drivers.Rng.VirtioRng.ProbePolling = true;
        }

        protected static string LogText => LogBuffer.Contents;

        // Start the driver stack on a machine holding just dev; the one virtio-rng it brings up.
        protected static (GuestOS.Drivers.Rng.VirtioRng rng, SimVirtioDevice dev) UpRng(SimVirtioDevice dev, bool x86 = false)
        {
            var m = x86 ? TestMachine.X86(dev) : TestMachine.Virt(dev);
            Assert.Equal(GuestOS.Drivers.DriverError.Ok, GuestOS.Drivers.DriverStack.Start(m.Cfg, m.Windows, out var r));
            return (r.Single(), dev);
        }

        // Read each size in turn into a guarded buffer: exactly n bytes, nothing written past them.
        protected static unsafe byte[] ReadAll(GuestOS.Drivers.Rng.VirtioRng rng, params uint[] sizes)
        {
            var all = new System.Collections.Generic.List<byte>();
            foreach (uint n in sizes)
            {
                byte[] buf = new byte[n + 16];
                for (int i = 0; i < buf.Length; i++) buf[i] = 0xAA;
                fixed (byte* p = buf) Assert.Equal((long)n, rng.virtio_read(p, n));
                for (int i = (int)n; i < buf.Length; i++) Assert.Equal(0xAA, buf[i]);   // nothing past the end
                all.AddRange(buf.Take((int)n));
            }
            return all.ToArray();
        }
    }

    // Ready-made machines shaped like the two QEMU boards (qemu-machines.md).
    public sealed class TestMachine
    {
        public SimPlatform P;
        public PciConfigAccess Cfg;
        public PciHostWindows Windows;

        public const ulong VirtEcam = 0x4010000000;

        // x86 q35/pc after SeaBIOS: port 0xCF8 access, BARs assigned and decoding on.
        public static TestMachine X86(params SimPciFunction[] slots)
        {
            var m = new TestMachine { P = new SimPlatform() };
            m.P.Root.Add(0, 0, new SimPciFunction(0x8086, 0x29c0, 0x060000, 0, 6));   // host bridge
            ulong mem = 0xfe000000, io = 0xc000;
            for (int i = 0; i < slots.Length; i++)
            {
                var f = m.P.Root.Add((uint)(i + 1), 0, slots[i]);
                for (int b = 0; b < f.Bars.Length; b++)
                {
                    var d = f.Bars[b];
                    if (d.Kind == SimBarKind.Io) { io = (io + d.Size - 1) & ~(d.Size - 1); f.PresetBar(b, io); io += d.Size; }
                    else if (d.Kind != SimBarKind.None) { mem = (mem + d.Size - 1) & ~(d.Size - 1); f.PresetBar(b, mem); mem += d.Size; }
                }
                f.W16(0x04, 0x0003);   // SeaBIOS enables I/O + memory decoding ...
                if (f.Config[0x3D] != 0) f.Config[0x3C] = (byte)(10 + i % 2);   // ... and routes INTx (pc: IRQ 10/11)
            }
            m.Cfg = new PciConfigPort();
            return m;
        }

        // aarch64 virt with -kernel: ECAM, nothing assigned, windows from the device tree.
        public static TestMachine Virt(params SimPciFunction[] slots)
        {
            var m = new TestMachine { P = new SimPlatform { EcamBase = VirtEcam, PortConfig = false } };
            m.P.Root.Add(0, 0, new SimPciFunction(0x1b36, 0x0008, 0x060000, 0, 6));   // gpex host bridge
            for (int i = 0; i < slots.Length; i++) m.P.Root.Add((uint)(i + 1), 0, slots[i]);
            m.Cfg = PciConfigEcam.Map(VirtEcam, 0, 255);
            m.Windows = VirtWindows();
            m.P.IoWindowCpu = m.Windows.IoCpuBase;
            m.P.IoWindowSize = m.Windows.IoSize;
            return m;
        }

        public static PciHostWindows VirtWindows() => new PciHostWindows
        {
            Mem32Base = 0x10000000, Mem32Size = 0x2eff0000,
            Mem64Base = 0x8000000000, Mem64Size = 0x8000000000,
            IoBase = 0, IoSize = 0x10000, IoCpuBase = 0x3eff0000,
        };
    }

    public static class TraceQuery
    {
        // Accesses inside [base, base+len) as (dir, offset, width, value) strings like "W8 +0x14 = 0xf".
        public static List<string> Region(ulong baseAddr, ulong len)
        {
            return IoBus.Trace.Where(a => a.Space == IoSpace.Mmio && a.Addr >= baseAddr && a.Addr < baseAddr + len)
                .Select(a => $"{(a.Dir == IoDir.Read ? "R" : "W")}{a.Width * 8} +0x{a.Addr - baseAddr:x2} = 0x{a.Value:x}")
                .ToList();
        }
    }
}
