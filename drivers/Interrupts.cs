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
