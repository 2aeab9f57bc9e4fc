namespace GuestOS.Hal
{
    // The interrupt types of the HAL contract, defined once because both worlds share them
    // (the static Irq class itself is per world: kernel/hal/Irq.cs, and the hosted HAL).

    // Code to run when an interrupt arrives. The kernel has no delegates, so a handler is an
    // object with a virtual method. It runs with local interrupts disabled.
    public abstract class InterruptHandler
    {
        public abstract void Handle();
    }

    // The message a PCI function writes to raise an MSI / MSI-X interrupt (PCIe 5.0 §6.1.4).
    public struct MsiMessage
    {
        public ulong Address;
        public uint Data;
    }
}

namespace GuestOS.Hal
{
    // A wired (line-based) interrupt as the platform describes it: an IOAPIC GSI on x86
    // (ACPI MADT, DSDT _CRS, or a PCI function's interrupt line), a GIC INTID on arm64 (the
    // device tree's `interrupts` or the PCI host bridge's `interrupt-map`). Level-triggered
    // lines stay asserted until the device is acknowledged (virtio: ISR read, InterruptACK
    // write), which the handler does before the controller's end of interrupt.
    public struct WiredIrq
    {
        public uint Number;         // x86: global system interrupt; arm64: GIC INTID (SPI n = 32 + n)
        public bool Level;          // level-triggered (else edge)
        public bool ActiveLow;      // polarity (x86 IOAPIC)
        public bool Valid;          // false: the platform described no line
    }
}
