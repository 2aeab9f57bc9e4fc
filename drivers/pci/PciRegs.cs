namespace GuestOS.Drivers.Pci
{
    // Configuration-space register offsets and bits (PCI Local Bus 3.0 §6.2, PCI-to-PCI Bridge
    // 1.2 §3.2), named as Linux's include/uapi/linux/pci_regs.h.
    public static class PciRegs
    {
        public const uint PCI_VENDOR_ID = 0x00;
        public const uint PCI_DEVICE_ID = 0x02;
        public const uint PCI_COMMAND = 0x04;
        public const ushort PCI_COMMAND_IO = 0x1;
        public const ushort PCI_COMMAND_MEMORY = 0x2;
        public const ushort PCI_COMMAND_MASTER = 0x4;
        public const uint PCI_STATUS = 0x06;
        public const ushort PCI_STATUS_CAP_LIST = 0x10;
        public const uint PCI_CLASS_REVISION = 0x08;
        public const uint PCI_HEADER_TYPE = 0x0E;
        public const byte PCI_HEADER_TYPE_MASK = 0x7F;
        public const byte PCI_HEADER_TYPE_MFD = 0x80;
        public const byte PCI_HEADER_TYPE_NORMAL = 0;
        public const byte PCI_HEADER_TYPE_BRIDGE = 1;
        public const byte PCI_HEADER_TYPE_CARDBUS = 2;
        public const uint PCI_BASE_ADDRESS_0 = 0x10;
        public const uint PCI_SUBSYSTEM_VENDOR_ID = 0x2C;
        public const uint PCI_SUBSYSTEM_ID = 0x2E;
        public const uint PCI_CAPABILITY_LIST = 0x34;
        public const uint PCI_INTERRUPT_LINE = 0x3C;
        public const uint PCI_INTERRUPT_PIN = 0x3D;

        // BAR low bits (PCI 3.0 §6.2.5.1)
        public const uint PCI_BASE_ADDRESS_SPACE_IO = 0x1;
        public const uint PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x6;
        public const uint PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
        public const uint PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;
        public const uint PCI_BASE_ADDRESS_MEM_MASK = 0xFFFFFFF0;
        public const uint PCI_BASE_ADDRESS_IO_MASK = 0xFFFFFFFC;

        // Type 1 (bridge) header
        public const uint PCI_PRIMARY_BUS = 0x18;
        public const uint PCI_SECONDARY_BUS = 0x19;
        public const uint PCI_SUBORDINATE_BUS = 0x1A;
        public const uint PCI_IO_BASE = 0x1C;
        public const uint PCI_IO_LIMIT = 0x1D;
        public const byte PCI_IO_RANGE_TYPE_MASK = 0x0F;
        public const byte PCI_IO_RANGE_TYPE_32 = 0x01;
        public const uint PCI_MEMORY_BASE = 0x20;
        public const uint PCI_MEMORY_LIMIT = 0x22;
        public const uint PCI_PREF_MEMORY_BASE = 0x24;
        public const uint PCI_PREF_MEMORY_LIMIT = 0x26;
        public const ushort PCI_PREF_RANGE_TYPE_MASK = 0x0F;
        public const ushort PCI_PREF_RANGE_TYPE_64 = 0x01;
        public const uint PCI_PREF_BASE_UPPER32 = 0x28;
        public const uint PCI_PREF_LIMIT_UPPER32 = 0x2C;
        public const uint PCI_IO_BASE_UPPER16 = 0x30;
        public const uint PCI_IO_LIMIT_UPPER16 = 0x32;
        public const uint PCI_CAPABILITY_LIST_CARDBUS = 0x14;

        // Bridge window granularity (PCI-to-PCI Bridge 1.2 §3.2.5.6 / §3.2.5.8)
        public const ulong BRIDGE_MEM_ALIGN = 0x100000;  // 1 MiB
        public const ulong BRIDGE_IO_ALIGN = 0x1000;     // 4 KiB
    }
}
