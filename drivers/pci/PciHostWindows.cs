namespace GuestOS.Drivers.Pci
{
    // The address ranges the host bridge forwards to PCI, from which unassigned BARs are given
    // addresses when no firmware did it (aarch64 virt with -kernel). The kernel fills this from
    // the device tree's `ranges` of the pci-host-ecam-generic node (or ACPI _CRS). A size of 0
    // means "no such window". Pass null instead when firmware already assigned everything
    // (x86 pc/q35 with SeaBIOS).
    public sealed class PciHostWindows
    {
        // 32-bit non-prefetchable memory (virt: 0x10000000, size 0x2eff0000).
        // Memory windows are identity mapped: bus address == CPU physical address.
        public ulong Mem32Base;
        public ulong Mem32Size;

        // 64-bit memory (virt: 0x8000000000, size 0x8000000000).
        public ulong Mem64Base;
        public ulong Mem64Size;

        // I/O space: IoBase/IoSize are PCI bus (port) addresses; IoCpuBase is the CPU physical
        // address where bus address IoBase appears (virt: bus 0x0 at CPU 0x3eff0000, size 0x10000).
        public ulong IoBase;
        public ulong IoSize;
        public ulong IoCpuBase;

        // false (default): 64-bit BARs go in the 32-bit window while it has room, so the kernel
        //                  only needs to map low MMIO; the 64-bit window is the fallback.
        // true:            64-bit BARs go above 4 GiB like Linux does (the kernel's ioremap
        //                  must then reach the 64-bit window).
        public bool Mem64Preferred;
    }
}
