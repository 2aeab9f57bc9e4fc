using System;
using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Virtio;
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
                if (!Log.Quiet)
                {
                    Log.Write("acpi: MCFG: ECAM at "u8); Log.Hex(ecam); Log.Write(", buses "u8);
                    Log.Dec(first); Log.Write("-"u8); Log.Dec(last); Log.Line();
                }
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

        // The virtio-mmio transports, on microvm: the DSDT's devices with _HID "LNRO0005", one
        // per plugged transport, each _CRS a Memory32Fixed and an Interrupt (a GSI, level, active
        // high) (hw/i386/acpi-microvm.c acpi_dsdt_add_virtio). Why ACPI and not the kernel
        // command line: QEMU appends `virtio_mmio.device=512@0x...:IRQ` for microvm only when
        // it loads a Linux boot-protocol kernel (auto-kernel-cmdline); GuestOS boots through
        // Multiboot or PVH, and with -device virtio-rng-device its printed command line is
        // exactly what -append gave (tests/Kernel.Tests/WiredInterruptTests checks this).
        // Linux finds them the same way: drivers/virtio/virtio_mmio.c's acpi_match_table.
        private static VirtioMmioSlot[] mmioSlots;

        internal static VirtioMmioSlot[] VirtioMmioSlots()
        {
            if (mmioSlots != null) return mmioSlots;
            mmioSlots = FindVirtioMmioSlots();
            for (int i = 0; i < mmioSlots.Length && !Log.Quiet; i++)
            {
                Log.Write("acpi: DSDT: virtio-mmio "u8); Log.Hex(mmioSlots[i].Phys); Log.Write(" size "u8); Log.Hex(mmioSlots[i].Size);
                if (!mmioSlots[i].Irq.Valid) { Log.Write(", no interrupt: polling only"u8); Log.Line(); continue; }
                Log.Write(", GSI "u8); Log.Dec(mmioSlots[i].Irq.Number);
                Log.Write(mmioSlots[i].Irq.Level ? " level"u8 : " edge"u8);
                Log.Write(mmioSlots[i].Irq.ActiveLow ? ", active low"u8 : ", active high"u8); Log.Line();
            }
            return mmioSlots;
        }

        // The DSDT walk itself, uncached (the boot benchmark times it twice).
        internal static unsafe VirtioMmioSlot[] FindVirtioMmioSlots()
        {
            VirtioMmioSlot[] found = new VirtioMmioSlot[MmioSlots.Max];
            int count = 0;
            byte* dsdt = Acpi.FindDsdt(Acpi.Rsdp);
            if (dsdt != null)
            {
                count = Aml.FindDevices(dsdt + 36, (int)(*(uint*)(dsdt + 4) - 36), "LNRO0005"u8, found);
                if (Aml.ProblemCode != 0 && count == 0 && !Log.Quiet)
                {
                    Log.Write("acpi: DSDT: the AML walk stopped at +"u8); Log.Hex((ulong)(Aml.ProblemAt + 36));
                    Log.Write(" ("u8); Log.Write(Aml.Problem); Log.Write(", byte "u8); Log.Hex(dsdt[36 + Aml.ProblemAt], 2);
                    Log.Write("); no virtio-mmio devices found before it"u8); Log.Line();
                }
            }
            if (count > MmioSlots.Max)
            {
                Log.Write("acpi: DSDT: more than 32 virtio-mmio devices: the rest ignored"u8); Log.Line();
                count = MmioSlots.Max;
            }
            return MmioSlots.Sorted(found, count);
        }
    }
}
