using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // One virtio-mmio transport as the platform describes it (virtio 1.2 §4.2): arm64 virt's
    // device tree `compatible = "virtio,mmio"` nodes (reg + interrupts), x86 microvm's ACPI
    // DSDT devices with _HID "LNRO0005" (_CRS: Memory32Fixed + Interrupt). Linux:
    // virtio_mmio_probe's platform resources (IORESOURCE_MEM, platform_get_irq).
    public struct VirtioMmioSlot
    {
        public ulong Phys;          // register block
        public ulong Size;          // 0x200 on QEMU
        public WiredIrq Irq;        // its interrupt line
    }
}
