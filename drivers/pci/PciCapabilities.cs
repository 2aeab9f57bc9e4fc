using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // The capability list (PCI Local Bus 3.0 §6.7): a linked list in configuration space that
    // starts at the pointer in 0x34 (0x14 for CardBus), each entry {u8 id, u8 next, ...}.
    // It is read once into the PciDevice and walked with two protections, because a broken
    // or hostile device can make it endless:
    //   - at most 48 entries ((256 - 64) / 4, Linux: PCI_FIND_CAP_TTL), and
    //   - an entry seen before ends the walk (a cycle), which is reported.
    // Entries below 0x40 (inside the standard header) end the list, as in Linux.
    public static class PciCapabilities
    {
        public const byte PCI_CAP_ID_PM = 0x01;
        public const byte PCI_CAP_ID_MSI = 0x05;
        public const byte PCI_CAP_ID_VNDR = 0x09;
        public const byte PCI_CAP_ID_EXP = 0x10;
        public const byte PCI_CAP_ID_MSIX = 0x11;
        public const int PCI_FIND_CAP_TTL = 48;

        public static void Read(PciDevice d)
        {
            d.CapIds = new byte[PCI_FIND_CAP_TTL];
            d.CapOffsets = new byte[PCI_FIND_CAP_TTL];
            d.CapCount = 0;
            d.CapListLoops = false;

            ushort status = d.Read16(PciRegs.PCI_STATUS);
            if ((status & PciRegs.PCI_STATUS_CAP_LIST) == 0 || status == 0xFFFF) return;

            uint ptrReg = d.HeaderType == PciRegs.PCI_HEADER_TYPE_CARDBUS ? PciRegs.PCI_CAPABILITY_LIST_CARDBUS : PciRegs.PCI_CAPABILITY_LIST;
            uint pos = (uint)(d.Read8(ptrReg) & 0xFC);
            ulong seen = 0;   // one bit per dword of the 256-byte header space

            while (pos >= 0x40 && d.CapCount < PCI_FIND_CAP_TTL)
            {
                ulong bit = 1UL << (int)(pos >> 2);
                if ((seen & bit) != 0)
                {
                    d.CapListLoops = true;
                    Log.Write("pci "u8);
                    d.WriteBdf();
                    Log.Write(": capability list loops back to "u8);
                    Log.Hex(pos);
                    Log.Write(", walk stopped"u8);
                    Log.Line();
                    return;
                }
                seen |= bit;
                byte id = d.Read8(pos);
                if (id == 0xFF) return;   // function not answering
                d.CapIds[d.CapCount] = id;
                d.CapOffsets[d.CapCount] = (byte)pos;
                d.CapCount++;
                pos = (uint)(d.Read8(pos + 1) & 0xFC);
            }
        }

        // Offset of the first capability with this id, or 0 (Linux: pci_find_capability).
        public static uint Find(PciDevice d, byte id)
        {
            return FindNext(d, 0, id);
        }

        // Offset of the next capability with this id after the one at `pos`, or 0
        // (Linux: pci_find_next_capability). pos 0 starts at the head of the list.
        public static uint FindNext(PciDevice d, uint pos, byte id)
        {
            int i = 0;
            if (pos != 0)
            {
                while (i < d.CapCount && d.CapOffsets[i] != pos) i++;
                i++;
            }
            for (; i < d.CapCount; i++)
            {
                if (d.CapIds[i] == id) return d.CapOffsets[i];
            }
            return 0;
        }

        public static ReadOnlySpan<byte> Name(byte id)
        {
            switch (id)
            {
                case PCI_CAP_ID_PM: return "power management"u8;
                case PCI_CAP_ID_MSI: return "MSI"u8;
                case PCI_CAP_ID_VNDR: return "vendor"u8;
                case PCI_CAP_ID_EXP: return "PCI Express"u8;
                case PCI_CAP_ID_MSIX: return "MSI-X"u8;
                case 0x0D: return "bridge subsystem id"u8;
            }
            return "capability"u8;
        }
    }
}
