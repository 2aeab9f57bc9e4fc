using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // x86 configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2), as Linux's
    // arch/x86/pci/direct.c (pci_conf1_read / pci_conf1_write):
    //   outl(0xCF8, 0x80000000 | bus << 16 | dev << 11 | fn << 8 | (offset & 0xFC))
    //   then the data at 0xCFC + (offset & 3), with the access width the caller wants.
    // Only the first 256 bytes of each function are reachable this way.
    public sealed class PciConfigPort : PciConfigAccess
    {
        public const ushort CONFIG_ADDRESS = 0xCF8;
        public const ushort CONFIG_DATA = 0xCFC;

        public PciConfigPort()
        {
            FirstBus = 0;
            LastBus = 255;
            Narration.IoRegions.Add(CONFIG_ADDRESS, 8, Narration.IoRegionKind.PciConfigPorts, port: true);
        }

        public override ReadOnlySpan<byte> Name { get { return "port 0xcf8/0xcfc"u8; } }

        public static uint ConfigAddress(uint bus, uint dev, uint fn, uint offset)
        {
            return 0x80000000u | ((bus & 0xFF) << 16) | ((dev & 0x1F) << 11) | ((fn & 0x7) << 8) | (offset & 0xFC);
        }

        private static bool Reachable(uint bus, uint offset) { return bus <= 255 && offset < 256; }

        public override byte Read8(uint bus, uint dev, uint fn, uint offset)
        {
            if (!Reachable(bus, offset)) return 0xFF;
            Io.outl(CONFIG_ADDRESS, ConfigAddress(bus, dev, fn, offset));
            return Io.inb((ushort)(CONFIG_DATA + (offset & 3)));
        }

        public override ushort Read16(uint bus, uint dev, uint fn, uint offset)
        {
            if (!Reachable(bus, offset)) return 0xFFFF;
            Io.outl(CONFIG_ADDRESS, ConfigAddress(bus, dev, fn, offset));
            return Io.inw((ushort)(CONFIG_DATA + (offset & 2)));
        }

        public override uint Read32(uint bus, uint dev, uint fn, uint offset)
        {
            if (!Reachable(bus, offset)) return 0xFFFFFFFF;
            Io.outl(CONFIG_ADDRESS, ConfigAddress(bus, dev, fn, offset));
            return Io.inl(CONFIG_DATA);
        }

        public override void Write8(uint bus, uint dev, uint fn, uint offset, byte value)
        {
            if (!Reachable(bus, offset)) return;
            Io.outl(CONFIG_ADDRESS, ConfigAddress(bus, dev, fn, offset));
            Io.outb((ushort)(CONFIG_DATA + (offset & 3)), value);
        }

        public override void Write16(uint bus, uint dev, uint fn, uint offset, ushort value)
        {
            if (!Reachable(bus, offset)) return;
            Io.outl(CONFIG_ADDRESS, ConfigAddress(bus, dev, fn, offset));
            Io.outw((ushort)(CONFIG_DATA + (offset & 2)), value);
        }

        public override void Write32(uint bus, uint dev, uint fn, uint offset, uint value)
        {
            if (!Reachable(bus, offset)) return;
            Io.outl(CONFIG_ADDRESS, ConfigAddress(bus, dev, fn, offset));
            Io.outl(CONFIG_DATA, value);
        }
    }
}
