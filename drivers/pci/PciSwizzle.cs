namespace GuestOS.Drivers.Pci
{
    // Which INTx a host bridge sees for a function behind PCI-to-PCI bridges. A bridge forwards
    // its secondary side's INTA-INTD onto its own pins rotated by the device number (PCI-to-PCI
    // Bridge Architecture 1.2, 9.1, table 9-1), so a function's pin reaches the root bus as the
    // topmost bridge's, turned once per bridge: what a host bridge's routing (the device tree's
    // interrupt-map, ACPI's _PRT) names. Firmware that writes the Interrupt Line register has
    // done this already (x86); the device tree leaves it to the OS.
    // Linux: pci_common_swizzle and pci_swizzle_interrupt_pin (drivers/pci/irq.c, setup-irq.c).
    public static class PciSwizzle
    {
        // The function on the root bus whose slot the host bridge sees, and in `pin` (1-4 =
        // INTA-INTD, in and out) the pin it sees there. A function on the root bus is itself.
        public static PciDevice pci_common_swizzle(PciDevice dev, ref byte pin)
        {
            while (dev.Parent != null)
            {
                pin = pci_swizzle_interrupt_pin(dev, pin);
                dev = dev.Parent;
            }
            return dev;
        }

        // One bridge's rotation: INTx of device d on its secondary bus arrives as
        // INT((x - 1 + d) mod 4). (With ARI, every function is device 0; not used here.)
        public static byte pci_swizzle_interrupt_pin(PciDevice dev, byte pin)
            => (byte)((pin - 1 + dev.Dev) % 4 + 1);
    }
}
