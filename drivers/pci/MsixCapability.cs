using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // The MSI-X capability (PCI Local Bus 3.0 §6.8.2):
    //   +2  u16 message control: bits 10:0 table size - 1, bit 14 function mask, bit 15 enable
    //   +4  u32 table offset (bits 31:3) | table BIR (bits 2:0)
    //   +8  u32 PBA offset (bits 31:3)   | PBA BIR (bits 2:0)
    // Only read here (for the listing and a later interrupt-driven driver); programming the
    // table (masked while being written) comes with interrupt delivery.
    public sealed class MsixCapability
    {
        public const uint PCI_MSIX_FLAGS = 2;
        public const uint PCI_MSIX_TABLE = 4;
        public const uint PCI_MSIX_PBA = 8;
        public const ushort PCI_MSIX_FLAGS_QSIZE = 0x07FF;
        public const ushort PCI_MSIX_FLAGS_MASKALL = 0x4000;
        public const ushort PCI_MSIX_FLAGS_ENABLE = 0x8000;
        public const uint PCI_MSIX_BIR_MASK = 0x7;
        public const uint PCI_MSIX_ENTRY_SIZE = 16;

        public uint Offset;        // of the capability in configuration space
        public uint TableSize;     // number of vectors
        public int TableBir;
        public uint TableOffset;
        public int PbaBir;
        public uint PbaOffset;
        public bool Enabled;
        public bool FunctionMasked;

        // null if d has no MSI-X capability.
        public static MsixCapability Read(PciDevice d)
        {
            uint pos = PciCapabilities.Find(d, PciCapabilities.PCI_CAP_ID_MSIX);
            if (pos == 0) return null;
            MsixCapability m = new MsixCapability();
            m.Offset = pos;
            ushort ctrl = d.Read16(pos + PCI_MSIX_FLAGS);
            m.TableSize = (uint)(ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
            m.Enabled = (ctrl & PCI_MSIX_FLAGS_ENABLE) != 0;
            m.FunctionMasked = (ctrl & PCI_MSIX_FLAGS_MASKALL) != 0;
            uint table = d.Read32(pos + PCI_MSIX_TABLE);
            m.TableBir = (int)(table & PCI_MSIX_BIR_MASK);
            m.TableOffset = table & ~PCI_MSIX_BIR_MASK;
            uint pba = d.Read32(pos + PCI_MSIX_PBA);
            m.PbaBir = (int)(pba & PCI_MSIX_BIR_MASK);
            m.PbaOffset = pba & ~PCI_MSIX_BIR_MASK;
            return m;
        }

        public void Print()
        {
            Log.Write("MSI-X: "u8);
            Log.Dec(TableSize);
            Log.Write(TableSize == 1 ? " vector"u8 : " vectors"u8);
            Log.Write(", table BAR"u8);
            Log.Dec((ulong)TableBir);
            Log.Write('+');
            Log.Hex(TableOffset);
            Log.Write(", PBA BAR"u8);
            Log.Dec((ulong)PbaBir);
            Log.Write('+');
            Log.Hex(PbaOffset);
            Log.Write(Enabled ? ", enabled"u8 : ", disabled"u8);
        }
    }
}
