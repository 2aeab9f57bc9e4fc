using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // PCIe enhanced configuration access (PCIe 5.0 §7.2.2), as Linux's pci_ecam_create /
    // pci_ecam_map_bus: one 1 MiB slice per bus, 4 KiB per function, accessed with ordinary
    // ioread/iowrite of the width the caller asks for.
    public sealed class PciConfigEcam : PciConfigAccess
    {
        private ulong _base;   // ioremapped address of FirstBus's configuration space

        private PciConfigEcam() { }

        public override ReadOnlySpan<byte> Name { get { return "ECAM"u8; } }

        // physOfFirstBus: physical address where the configuration space of firstBus begins.
        //   ACPI MCFG: BaseAddress + (StartBus << 20)  (MCFG's base is the address of bus 0)
        //   device tree pci-host-ecam-generic: the node's reg base (covers bus-range[0]).
        // Returns null if the window cannot be mapped.
        public static PciConfigEcam Map(ulong physOfFirstBus, uint firstBus, uint lastBus)
        {
            if (lastBus < firstBus || lastBus > 255) return null;
            ulong size = (ulong)(lastBus - firstBus + 1) << 20;
            ulong virt = Io.ioremap(physOfFirstBus, size);
            if (virt == 0)
            {
                Log.Write("pci: ECAM: ioremap of "u8); Log.Hex(physOfFirstBus); Log.Write(" size "u8); Log.Hex(size);
                Log.Write(" failed"u8); Log.Line();
                return null;
            }
            // Narration names these accesses "config BB:DD.F+0xOFF" (bus 0 at the region's base).
            Narration.IoRegions.Add(virt - ((ulong)firstBus << 20), (ulong)(lastBus + 1) << 20, Narration.IoRegionKind.PciConfigEcam);
            PciConfigEcam e = new PciConfigEcam();
            e._base = virt;
            e.FirstBus = firstBus;
            e.LastBus = lastBus;
            return e;
        }

        // Address of (bus, dev, fn, offset), or 0 if outside the mapped range.
        public ulong MapBus(uint bus, uint dev, uint fn, uint offset)
        {
            if (bus < FirstBus || bus > LastBus || dev > 31 || fn > 7 || offset > 0xFFF) return 0;
            return _base + ((ulong)(bus - FirstBus) << 20) + ((ulong)dev << 15) + ((ulong)fn << 12) + offset;
        }

        public override byte Read8(uint bus, uint dev, uint fn, uint offset)
        {
            ulong a = MapBus(bus, dev, fn, offset);
            if (a == 0) return 0xFF;
            return Io.ioread8(a);
        }

        public override ushort Read16(uint bus, uint dev, uint fn, uint offset)
        {
            ulong a = MapBus(bus, dev, fn, offset & ~1u);
            if (a == 0) return 0xFFFF;
            return Io.ioread16(a);
        }

        public override uint Read32(uint bus, uint dev, uint fn, uint offset)
        {
            ulong a = MapBus(bus, dev, fn, offset & ~3u);
            if (a == 0) return 0xFFFFFFFF;
            return Io.ioread32(a);
        }

        public override void Write8(uint bus, uint dev, uint fn, uint offset, byte value)
        {
            ulong a = MapBus(bus, dev, fn, offset);
            if (a != 0) Io.iowrite8(a, value);
        }

        public override void Write16(uint bus, uint dev, uint fn, uint offset, ushort value)
        {
            ulong a = MapBus(bus, dev, fn, offset & ~1u);
            if (a != 0) Io.iowrite16(a, value);
        }

        public override void Write32(uint bus, uint dev, uint fn, uint offset, uint value)
        {
            ulong a = MapBus(bus, dev, fn, offset & ~3u);
            if (a != 0) Io.iowrite32(a, value);
        }
    }
}
