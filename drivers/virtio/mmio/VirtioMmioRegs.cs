namespace GuestOS.Drivers.Virtio
{
    // The virtio-mmio register block (virtio 1.2 §4.2.2, and §4.2.4 for the legacy version 1),
    // with Linux's names from include/uapi/linux/virtio_mmio.h. "The driver MUST only use 32
    // bit wide and aligned reads and writes to access the control registers" (§4.2.2.2);
    // only the configuration space at 0x100 is accessed at its fields' own widths.
    public static class VirtioMmioRegs
    {
        public const uint VIRTIO_MMIO_MAGIC_VALUE = 0x000;        // R  0x74726976 "virt"
        public const uint VIRTIO_MMIO_VERSION = 0x004;            // R  2 (modern), 1 (legacy)
        public const uint VIRTIO_MMIO_DEVICE_ID = 0x008;          // R  0: placeholder, no device
        public const uint VIRTIO_MMIO_VENDOR_ID = 0x00c;          // R
        public const uint VIRTIO_MMIO_DEVICE_FEATURES = 0x010;    // R  32 bits selected by ...
        public const uint VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;// W  ... this word index
        public const uint VIRTIO_MMIO_DRIVER_FEATURES = 0x020;    // W
        public const uint VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;// W
        public const uint VIRTIO_MMIO_GUEST_PAGE_SIZE = 0x028;    // W  legacy: unit of QueuePFN
        public const uint VIRTIO_MMIO_QUEUE_SEL = 0x030;          // W
        public const uint VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;      // R  0: queue not available
        public const uint VIRTIO_MMIO_QUEUE_NUM = 0x038;          // W
        public const uint VIRTIO_MMIO_QUEUE_ALIGN = 0x03c;        // W  legacy: used ring alignment
        public const uint VIRTIO_MMIO_QUEUE_PFN = 0x040;          // RW legacy: ring page number, 0 = inactive
        public const uint VIRTIO_MMIO_QUEUE_READY = 0x044;        // RW modern: 1 = live
        public const uint VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;       // W  queue index
        public const uint VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;   // R  bit 0 used buffer, bit 1 configuration change
        public const uint VIRTIO_MMIO_INTERRUPT_ACK = 0x064;      // W  the bits handled
        public const uint VIRTIO_MMIO_STATUS = 0x070;             // RW device status, 0 = reset
        public const uint VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;     // W  modern: the three areas
        public const uint VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
        public const uint VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;    //    (driver area)
        public const uint VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
        public const uint VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;     //    (device area)
        public const uint VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
        public const uint VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;  // R  modern
        public const uint VIRTIO_MMIO_CONFIG = 0x100;             //    device-specific configuration
        public const uint VIRTIO_MMIO_SIZE = 0x200;               // QEMU's register block

        public const uint VIRTIO_MMIO_MAGIC = 0x74726976;         // 'v' | 'i' << 8 | 'r' << 16 | 't' << 24
        public const uint VIRTIO_MMIO_INT_VRING = 1;
        public const uint VIRTIO_MMIO_INT_CONFIG = 2;
        public const ulong VIRTIO_MMIO_VRING_ALIGN = 4096;        // Linux: PAGE_SIZE, for QueueAlign
        public const uint GUEST_PAGE_SIZE = 4096;                 // what GuestPageSize is set to
    }
}
