using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // One PCI function as enumeration found it (Linux: struct pci_dev). Register accesses go
    // through the PciConfigAccess it was found with.
    public sealed class PciDevice
    {
        public PciConfigAccess Cfg;
        public uint Bus;
        public uint Dev;
        public uint Fn;

        public ushort VendorId;
        public ushort DeviceId;
        public uint ClassCode;          // class << 16 | subclass << 8 | prog-if
        public byte Revision;
        public byte HeaderType;         // 0 normal, 1 PCI-to-PCI bridge, 2 CardBus
        public bool MultiFunction;
        public ushort SubsystemVendorId;
        public ushort SubsystemId;
        public byte InterruptPin;       // 0 none, 1..4 = INTA..INTD

        // The BARs (6 for a normal function, 2 for a bridge), decoded and sized by SizeBars; null
        // before. Linux sizes every function's during the scan (pci_read_bases). Assign mode does
        // too, to allocate; with firmware's assignments (x86) a function's are sized by whoever
        // needs them - DriverStack before a driver binds it, lspci - because sizing turns the
        // function's decoding off and on, and under TCG QEMU rebuilds its memory map for each
        // BAR unmapped and mapped again: q35's SATA and SMBus functions cost 3 ms of boot.
        public PciBar[] Bars { get; private set; }
        public int BarCount;            // BARs the header type has (set by the scan)

        // Configuration writes (the sizing protocol, PciBar.ReadAll), once per function.
        public void SizeBars()
        {
            if (Bars == null) Bars = BarCount == 0 ? new PciBar[0] : PciBar.ReadAll(this, BarCount);
        }

        public PciDevice Parent;        // the bridge above, null on the root bus

        // Bridges: the bus numbers behind this bridge.
        public uint SecondaryBus;
        public uint SubordinateBus;

        // Capability list, read once (PciCapabilities.Read).
        public byte[] CapIds;
        public byte[] CapOffsets;
        public int CapCount;
        public bool CapListLoops;       // the list pointed back into itself and was cut there

        public byte Read8(uint offset) { return Cfg.Read8(Bus, Dev, Fn, offset); }
        public ushort Read16(uint offset) { return Cfg.Read16(Bus, Dev, Fn, offset); }
        public uint Read32(uint offset) { return Cfg.Read32(Bus, Dev, Fn, offset); }
        public void Write8(uint offset, byte value) { Cfg.Write8(Bus, Dev, Fn, offset, value); }
        public void Write16(uint offset, ushort value) { Cfg.Write16(Bus, Dev, Fn, offset, value); }
        public void Write32(uint offset, uint value) { Cfg.Write32(Bus, Dev, Fn, offset, value); }

        public bool IsBridge { get { return HeaderType == PciRegs.PCI_HEADER_TYPE_BRIDGE; } }

        // bus << 8 | device << 3 | function: how the function names itself on the bus, in MSIs
        // (the ITS's DeviceID) and in interrupt routing (Linux: pci_dev_id).
        public ushort RequesterId { get { return (ushort)(Bus << 8 | Dev << 3 | Fn); } }

        public PciBar Bar(int index)
        {
            if (Bars == null || index < 0 || index >= Bars.Length) return null;
            return Bars[index];
        }

        // pci_enable_device (memory decoding) + pci_set_master (bus mastering, so the device
        // may DMA). Returns the command register value written.
        public ushort EnableMemoryAndBusMaster()
        {
            return SetCommand((ushort)(PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER));
        }

        // pci_enable_device for a function whose registers sit in an I/O BAR (legacy virtio),
        // memory too for its MSI-X table.
        public ushort EnableIoAndBusMaster()
        {
            return SetCommand((ushort)(PciRegs.PCI_COMMAND_IO | PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER));
        }

        private ushort SetCommand(ushort bits)
        {
            ushort cmd = Read16(PciRegs.PCI_COMMAND);
            ushort want = (ushort)(cmd | bits);
            if (want != cmd) Write16(PciRegs.PCI_COMMAND, want);
            return want;
        }

        // "bb:dd.f" like lspci.
        public void WriteBdf()
        {
            WriteHex2(Bus);
            Log.Write(':');
            WriteHex2(Dev);
            Log.Write('.');
            Log.Write((char)HexDigits[(int)(Fn & 7)]);
        }

        public static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

        public static void WriteHex2(uint v)
        {
            Log.Write((char)HexDigits[(int)((v >> 4) & 0xF)]);
            Log.Write((char)HexDigits[(int)(v & 0xF)]);
        }

        public static void WriteHex4(uint v)
        {
            WriteHex2((v >> 8) & 0xFF);
            WriteHex2(v & 0xFF);
        }
    }
}
