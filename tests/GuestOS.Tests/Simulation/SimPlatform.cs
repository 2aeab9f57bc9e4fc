using System;
using System.Collections.Generic;
using GuestOS.Hal.Hosted;

namespace GuestOS.Tests.Simulation
{
    // The machine as the driver sees it through GuestOS.Hal.Io: a host bridge with a root bus,
    // configuration access through ECAM (an MMIO window) and/or ports 0xCF8/0xCFC, and MMIO
    // / port I/O routed to the BARs of whatever function decodes the address — through the
    // bus numbers and forwarding windows of the bridges in between, like real hardware.
    public sealed class SimPlatform : IIoHandler
    {
        public readonly SimBus Root = new SimBus();
        public uint RootBusNumber;

        public ulong EcamBase;          // 0 = no ECAM
        public uint EcamFirstBus;
        public uint EcamLastBus = 255;
        public bool PortConfig = true;  // 0xCF8/0xCFC present
        private uint _cf8;

        public readonly List<string> Unclaimed = new List<string>();
        public ulong IoWindowCpu, IoWindowSize;   // arm64: PCI I/O space reached through this MMIO window
        public readonly List<SimMmioDevice> MmioDevices = new List<SimMmioDevice>();   // platform devices (virtio-mmio)

        public SimPlatform()
        {
            IoBus.Handler = this;
            VirtualTime.OnTick = Tick;
        }

        public void Tick()
        {
            foreach (var f in Root.AllBelow()) f.Tick();
            foreach (var d in MmioDevices) d.Tick();
        }

        // ---- configuration routing ------------------------------------------------------

        public SimPciFunction FindConfig(uint bus, uint dev, uint fn)
        {
            if (dev > 31 || fn > 7) return null;
            return FindOn(Root, RootBusNumber, bus, dev, fn);
        }

        private static SimPciFunction FindOn(SimBus b, uint number, uint bus, uint dev, uint fn)
        {
            if (bus == number) return b.Slots[dev, fn];
            foreach (var f in b.Functions())
            {
                if (f is SimBridge br && br.SecondaryBus != 0 && br.SecondaryBus > number
                    && bus >= br.SecondaryBus && bus <= br.SubordinateBus)
                    return FindOn(br.Secondary, br.SecondaryBus, bus, dev, fn);
            }
            return null;
        }

        private ulong ConfigRead(uint bus, uint dev, uint fn, uint off, int width)
        {
            var f = FindConfig(bus, dev, fn);
            if (f == null || off + width > 4096) return width == 4 ? 0xFFFFFFFFu : (1UL << (8 * width)) - 1;
            return f.ConfigRead(off, width);
        }

        private void ConfigWrite(uint bus, uint dev, uint fn, uint off, int width, ulong value)
        {
            var f = FindConfig(bus, dev, fn);
            if (f == null || off + width > 4096) return;
            f.ConfigWrite(off, width, (uint)value);
        }

        // ---- MMIO / port routing -------------------------------------------------------

        private (SimPciFunction f, int bar, ulong off) FindMem(SimBus b, ulong addr, int width)
        {
            foreach (var f in b.Functions())
            {
                if (f is SimBridge br)
                {
                    if (br.ForwardsMem(addr))
                    {
                        var hit = FindMem(br.Secondary, addr, width);
                        if (hit.f != null) return hit;
                    }
                }
                if (!f.MemoryEnabled) continue;
                for (int i = 0; i < f.Bars.Length; i++)
                {
                    var d = f.Bars[i];
                    if (d.Kind != SimBarKind.Mem32 && d.Kind != SimBarKind.Mem64) continue;
                    ulong a = f.BarAddress(i);
                    if (a != 0 && addr >= a && addr + (ulong)width <= a + d.Size) return (f, i, addr - a);
                }
            }
            return (null, 0, 0);
        }

        private (SimPciFunction f, int bar, ulong off) FindIo(SimBus b, ulong port, int width)
        {
            foreach (var f in b.Functions())
            {
                if (f is SimBridge br && br.ForwardsIo(port))
                {
                    var hit = FindIo(br.Secondary, port, width);
                    if (hit.f != null) return hit;
                }
                if (!f.IoEnabled) continue;
                for (int i = 0; i < f.Bars.Length; i++)
                {
                    var d = f.Bars[i];
                    if (d.Kind != SimBarKind.Io) continue;
                    ulong a = f.BarAddress(i);
                    if (a != 0 && port >= a && port + (ulong)width <= a + d.Size) return (f, i, port - a);
                }
            }
            return (null, 0, 0);
        }

        private bool InEcam(ulong addr, out uint bus, out uint dev, out uint fn, out uint off)
        {
            bus = dev = fn = off = 0;
            if (EcamBase == 0 || addr < EcamBase) return false;
            ulong rel = addr - EcamBase;
            ulong buses = EcamLastBus - EcamFirstBus + 1;
            if (rel >= buses << 20) return false;
            bus = (uint)(rel >> 20) + EcamFirstBus;
            dev = (uint)(rel >> 15) & 31;
            fn = (uint)(rel >> 12) & 7;
            off = (uint)rel & 0xFFF;
            return true;
        }

        public ulong Read(IoSpace space, ulong addr, int width)
        {
            if (space == IoSpace.Port)
            {
                if (PortConfig && addr == 0xCF8 && width == 4) return _cf8;
                if (PortConfig && addr >= 0xCFC && addr < 0xD00)
                {
                    if ((_cf8 & 0x80000000) == 0) return (1UL << (8 * width)) - 1;
                    uint off = (_cf8 & 0xFC) + (uint)(addr - 0xCFC);
                    return ConfigRead((_cf8 >> 16) & 0xFF, (_cf8 >> 11) & 31, (_cf8 >> 8) & 7, off, width);
                }
                var io = FindIo(Root, addr, width);
                if (io.f != null) return io.f.BarRead(io.bar, io.off, width);
                Unclaimed.Add($"port read 0x{addr:x}/{width}");
                return (1UL << (8 * width)) - 1;
            }
            foreach (var m in MmioDevices) if (m.Contains(addr, width)) return m.Read(addr, width);
            if (addr - IoWindowCpu < IoWindowSize) return Read(IoSpace.Port, addr - IoWindowCpu, width);
            if (InEcam(addr, out uint b, out uint d, out uint f, out uint o)) return ConfigRead(b, d, f, o, width);
            var hit = FindMem(Root, addr, width);
            if (hit.f != null) return hit.f.BarRead(hit.bar, hit.off, width);
            Unclaimed.Add($"mmio read 0x{addr:x}/{width}");
            return width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1;
        }

        public void Write(IoSpace space, ulong addr, int width, ulong value)
        {
            if (space == IoSpace.Port)
            {
                if (PortConfig && addr == 0xCF8 && width == 4) { _cf8 = (uint)value; return; }
                if (PortConfig && addr >= 0xCFC && addr < 0xD00)
                {
                    if ((_cf8 & 0x80000000) == 0) return;
                    uint off = (_cf8 & 0xFC) + (uint)(addr - 0xCFC);
                    ConfigWrite((_cf8 >> 16) & 0xFF, (_cf8 >> 11) & 31, (_cf8 >> 8) & 7, off, width, value);
                    return;
                }
                var io = FindIo(Root, addr, width);
                if (io.f != null) { io.f.BarWrite(io.bar, io.off, width, value); return; }
                Unclaimed.Add($"port write 0x{addr:x}/{width}");
                return;
            }
            foreach (var m in MmioDevices) if (m.Contains(addr, width)) { m.Write(addr, width, value); return; }
            if (addr - IoWindowCpu < IoWindowSize) { Write(IoSpace.Port, addr - IoWindowCpu, width, value); return; }
            if (InEcam(addr, out uint b, out uint d, out uint f, out uint o)) { ConfigWrite(b, d, f, o, width, value); return; }
            var hit = FindMem(Root, addr, width);
            if (hit.f != null) { hit.f.BarWrite(hit.bar, hit.off, width, value); return; }
            Unclaimed.Add($"mmio write 0x{addr:x}/{width} = 0x{value:x}");
        }
    }
}
