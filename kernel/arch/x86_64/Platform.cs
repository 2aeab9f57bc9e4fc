using GuestOS.Drivers.Pci;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // Where the PC's PCI lives. q35 describes its ECAM in ACPI's MCFG; pc (i440fx) has only
    // configuration mechanism #1 at ports 0xCF8/0xCFC. SeaBIOS has assigned every BAR, so
    // there are no host-bridge windows to allocate from.
    internal static class Platform
    {
        internal static PciConfigAccess PciConfig(ref BootInfo boot)
        {
            if (Acpi.FindEcam(boot.AcpiRsdp, out ulong ecam, out uint first, out uint last))
            {
                Log.Write("acpi: MCFG: ECAM at "u8); Log.Hex(ecam); Log.Write(", buses "u8);
                Log.Dec(first); Log.Write("-"u8); Log.Dec(last); Log.Line();
                PciConfigAccess access = PciConfigEcam.Map(ecam + ((ulong)first << 20), first, last);
                if (access != null) return access;
            }
            else
            {
                Log.Write("acpi: no MCFG table: PCI configuration through ports 0xCF8/0xCFC"u8); Log.Line();
            }
            return new PciConfigPort();
        }

        internal static PciHostWindows PciWindows() => null;

        // The virtio-mmio transports the platform describes (none found yet on this architecture).
        internal static Drivers.Virtio.VirtioMmioSlot[] VirtioMmioSlots() => new Drivers.Virtio.VirtioMmioSlot[0];
    }
}
