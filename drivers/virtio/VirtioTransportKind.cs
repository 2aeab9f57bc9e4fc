namespace GuestOS.Drivers.Virtio
{
    // Which register interface a device sits behind (virtio 1.2 §4). Chooses the words of the
    // narration (each step's spec section and Linux function) and the transport's rules.
    public enum VirtioTransportKind : byte
    {
        PciModern,      // §4.1, virtio_pci_modern.c
        PciLegacy,      // §4.1.5 "Legacy Interfaces", virtio_pci_legacy.c
        MmioModern,     // §4.2, virtio_mmio.c, version 2
        MmioLegacy,     // §4.2.4 "Legacy interface", virtio_mmio.c, version 1
    }
}
