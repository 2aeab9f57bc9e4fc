using System;

namespace GuestOS.Drivers.Pci
{
    // How configuration space is reached (PCI Local Bus 3.0 §6.1; PCIe 5.0 §7.2).
    // Two mechanisms exist and the kernel picks one and passes it in:
    //   PciConfigPort  x86 "configuration mechanism #1": an address latch at port 0xCF8 and a
    //                  data window at 0xCFC (256 bytes per function; Linux: pci_conf1_read).
    //   PciConfigEcam  PCIe "enhanced configuration access": all of it memory mapped, 4 KiB per
    //                  function, address = base + (bus << 20 | dev << 15 | fn << 12 | offset)
    //                  (Linux: pci_ecam_map_bus). Where it lives comes from ACPI MCFG or the
    //                  device tree's pci-host-ecam-generic node.
    // A function that does not exist reads as all-ones.
    public abstract class PciConfigAccess
    {
        // Bus numbers this access method reaches (ECAM: the mapped bus range).
        public uint FirstBus;
        public uint LastBus;

        public abstract ReadOnlySpan<byte> Name { get; }

        public abstract byte Read8(uint bus, uint dev, uint fn, uint offset);
        public abstract ushort Read16(uint bus, uint dev, uint fn, uint offset);
        public abstract uint Read32(uint bus, uint dev, uint fn, uint offset);
        public abstract void Write8(uint bus, uint dev, uint fn, uint offset, byte value);
        public abstract void Write16(uint bus, uint dev, uint fn, uint offset, ushort value);
        public abstract void Write32(uint bus, uint dev, uint fn, uint offset, uint value);
    }
}
