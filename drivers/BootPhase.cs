namespace GuestOS.Drivers
{
    // The boot from kernel entry to the first device's DRIVER_OK, in the order it happens. Each
    // value names the END of a phase (Hal.BootPhases.Mark): the kernel marks the first five,
    // DriverStack and the entropy driver the rest. rng.bench prints each phase's time and
    // register accesses (BENCH-BOOT lines; tools/bench's boot table).
    public enum BootPhase
    {
        Memory,      // boot information, heap, GC statics, page allocator, null page unmapped
        Banner,      // the console and the first line
        Clock,       // x86: IDT, TSC against the PIT; arm64: the counter's frequency
        Interrupts,  // x86: MADT, local APIC, I/O APIC; arm64: the GIC from the device tree
        Firmware,    // where PCI and virtio-mmio are: MCFG and DSDT (x86), the device tree (arm64)
        Pci,         // PCI enumeration (bus numbers and BARs on arm64)
        Transport,   // the first device's transport probe (virtio_pci_modern_probe / virtio_mmio_probe)
        BringUp,     // reset to DRIVER_OK (virtio 1.2 §3.1.1): features, vectors, queue, buffers
        Count
    }
}
