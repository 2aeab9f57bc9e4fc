using System;

namespace GuestOS.Drivers.Virtio
{
    // The virtio-over-PCI register layout (virtio 1.2 §4.1.4), with Linux's names from
    // include/uapi/linux/virtio_pci.h. Linux checks these offsets at compile time
    // (check_offsets in virtio_pci_modern_dev.c); here they are the constants themselves.
    public static class VirtioPciRegs
    {
        // struct virtio_pci_cap: a vendor-specific PCI capability (id 0x09), §4.1.4
        public const uint VIRTIO_PCI_CAP_VNDR = 0;      // u8  0x09
        public const uint VIRTIO_PCI_CAP_NEXT = 1;      // u8  next capability
        public const uint VIRTIO_PCI_CAP_LEN = 2;       // u8  length of this capability
        public const uint VIRTIO_PCI_CAP_CFG_TYPE = 3;  // u8  which structure (below)
        public const uint VIRTIO_PCI_CAP_BAR = 4;       // u8  BAR index 0..5
        public const uint VIRTIO_PCI_CAP_ID = 5;        // u8  multiple capabilities of one type
        public const uint VIRTIO_PCI_CAP_OFFSET = 8;    // le32 offset within the BAR
        public const uint VIRTIO_PCI_CAP_LENGTH = 12;   // le32 length of the structure
        public const uint VIRTIO_PCI_NOTIFY_CAP_MULT = 16; // le32 notify_off_multiplier (NOTIFY only)
        public const uint VIRTIO_PCI_CAP_SIZE = 16;     // sizeof(struct virtio_pci_cap)
        public const uint VIRTIO_PCI_NOTIFY_CAP_SIZE = 20; // sizeof(struct virtio_pci_notify_cap)

        // cfg_type values, §4.1.4
        public const byte VIRTIO_PCI_CAP_COMMON_CFG = 1;
        public const byte VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
        public const byte VIRTIO_PCI_CAP_ISR_CFG = 3;
        public const byte VIRTIO_PCI_CAP_DEVICE_CFG = 4;
        public const byte VIRTIO_PCI_CAP_PCI_CFG = 5;
        public const byte VIRTIO_PCI_CAP_SHARED_MEMORY_CFG = 8;
        public const byte VIRTIO_PCI_CAP_VENDOR_CFG = 9;

        // struct virtio_pci_common_cfg, §4.1.4.3
        public const uint VIRTIO_PCI_COMMON_DFSELECT = 0x00;     // le32 device_feature_select
        public const uint VIRTIO_PCI_COMMON_DF = 0x04;           // le32 device_feature (RO)
        public const uint VIRTIO_PCI_COMMON_GFSELECT = 0x08;     // le32 driver_feature_select
        public const uint VIRTIO_PCI_COMMON_GF = 0x0C;           // le32 driver_feature
        public const uint VIRTIO_PCI_COMMON_MSIX = 0x10;         // le16 config_msix_vector
        public const uint VIRTIO_PCI_COMMON_NUMQ = 0x12;         // le16 num_queues (RO)
        public const uint VIRTIO_PCI_COMMON_STATUS = 0x14;       // u8   device_status
        public const uint VIRTIO_PCI_COMMON_CFGGENERATION = 0x15;// u8   config_generation (RO)
        public const uint VIRTIO_PCI_COMMON_Q_SELECT = 0x16;     // le16 queue_select
        public const uint VIRTIO_PCI_COMMON_Q_SIZE = 0x18;       // le16 queue_size
        public const uint VIRTIO_PCI_COMMON_Q_MSIX = 0x1A;       // le16 queue_msix_vector
        public const uint VIRTIO_PCI_COMMON_Q_ENABLE = 0x1C;     // le16 queue_enable
        public const uint VIRTIO_PCI_COMMON_Q_NOFF = 0x1E;       // le16 queue_notify_off (RO)
        public const uint VIRTIO_PCI_COMMON_Q_DESCLO = 0x20;     // le64 queue_desc, as two le32
        public const uint VIRTIO_PCI_COMMON_Q_DESCHI = 0x24;
        public const uint VIRTIO_PCI_COMMON_Q_AVAILLO = 0x28;    // le64 queue_driver
        public const uint VIRTIO_PCI_COMMON_Q_AVAILHI = 0x2C;
        public const uint VIRTIO_PCI_COMMON_Q_USEDLO = 0x30;     // le64 queue_device
        public const uint VIRTIO_PCI_COMMON_Q_USEDHI = 0x34;
        public const uint VIRTIO_PCI_COMMON_CFG_SIZE = 0x38;     // sizeof(struct virtio_pci_common_cfg)

        public const ushort VIRTIO_MSI_NO_VECTOR = 0xFFFF;

        public static ReadOnlySpan<byte> CfgTypeName(byte t)
        {
            switch (t)
            {
                case VIRTIO_PCI_CAP_COMMON_CFG: return "COMMON"u8;
                case VIRTIO_PCI_CAP_NOTIFY_CFG: return "NOTIFY"u8;
                case VIRTIO_PCI_CAP_ISR_CFG: return "ISR"u8;
                case VIRTIO_PCI_CAP_DEVICE_CFG: return "DEVICE"u8;
                case VIRTIO_PCI_CAP_PCI_CFG: return "PCI_CFG"u8;
                case VIRTIO_PCI_CAP_SHARED_MEMORY_CFG: return "SHARED_MEMORY"u8;
                case VIRTIO_PCI_CAP_VENDOR_CFG: return "VENDOR"u8;
            }
            return "reserved"u8;
        }
    }
}
