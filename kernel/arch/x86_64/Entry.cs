using System.Runtime;
using GuestOS.Drivers;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;
using GuestOS.Kernel.Console;
using GuestOS.Kernel.Runtime;

namespace GuestOS.Kernel.Arch
{
    // The first C# code on x86_64, called by boot/x86_64/entry.S in long mode with a stack,
    // SSE on and the first GiB identity-mapped. One ELF is booted by QEMU either through
    // Multiboot1 (eax = 0x2BADB002, ebx = multiboot_info) or PVH (ebx = hvm_start_info).
    // Page 0 is still mapped here: boot loaders put their information there.
    internal static unsafe class Entry
    {
        private const uint MultibootBootloaderMagic = 0x2BADB002;
        private const uint PvhStartMagic = 0x336ec578;   // hvm_start_info.magic (xen/arch-x86/hvm/start_info.h)

        [RuntimeExport("kernel_entry")]
        private static void KernelEntry(uint magic, ulong info)
        {
            Timer.MarkEntry();
            // hvm_start_info identifies itself; eax alone does not (microvm's qboot enters the
            // PVH entry with the Multiboot magic left in eax).
            BootInfo boot;
            if (*(uint*)info == PvhStartMagic) boot = FromPvh(info);
            else if (magic == MultibootBootloaderMagic) boot = FromMultiboot(info);
            else { Panic.Halt("unknown boot protocol: neither hvm_start_info nor the Multiboot magic"u8); return; }
            KernelMain.InitMemory(ref boot, Machine.BootMapEnd);   // heap first: `new` works after this
            BootPhases.Mark(BootPhase.Memory);
            ConsoleOutput.Device = new Serial16550(0x3F8);
            KernelMain.Banner(ref boot);
            BootPhases.Mark(BootPhase.Banner);
            Idt.Install();
            Timer.Calibrate();
            BootPhases.Mark(BootPhase.Clock);
            Acpi.Rsdp = boot.AcpiRsdp;        // the MADT (Interrupts.Init) and the DSDT need it later
            Interrupts.Init();
            WakeupTimer.Init();
            BootPhases.Mark(BootPhase.Interrupts);
            KernelMain.Run(ref boot);
        }

        // Multiboot 1 information structure (Multiboot Specification 0.6.96, section 3.3).
        private static BootInfo FromMultiboot(ulong info)
        {
            BootInfo boot = default;
            boot.Protocol = "multiboot"u8;
            uint flags = *(uint*)info;
            if ((flags & (1 << 0)) != 0)
            {
                // mem_upper: KiB of contiguous RAM from 1 MiB, where the kernel is loaded.
                boot.RamStart = 0x100000;
                boot.RamEnd = 0x100000 + (ulong)(*(uint*)(info + 8)) * 1024;
            }
            if ((flags & (1 << 6)) != 0)
            {
                // mmap_length, mmap_addr: entries { u32 size; u64 base; u64 length; u32 type },
                // size not counting itself; type 1 is RAM.
                ulong map = *(uint*)(info + 48), end = map + *(uint*)(info + 44);
                for (ulong entry = map; entry < end; entry += 4 + *(uint*)entry)
                    if (*(uint*)(entry + 20) == 1) boot.RamTotal += *(ulong*)(entry + 12);
            }
            if ((flags & (1 << 2)) != 0)
            {
                // By the Multiboot convention the first word is the kernel's file name.
                byte* cmdline = (byte*)(ulong)(*(uint*)(info + 16));
                while (*cmdline != 0 && *cmdline != ' ') cmdline++;
                while (*cmdline == ' ') cmdline++;
                boot.CommandLine = cmdline;
            }
            boot.AcpiRsdp = Acpi.FindRsdpInBios();
            return boot;
        }

        // PVH: struct hvm_start_info; version 1 carries an E820-style memory map.
        private static BootInfo FromPvh(ulong info)
        {
            BootInfo boot = default;
            boot.Protocol = "pvh"u8;
            uint version = *(uint*)(info + 4);
            ulong cmdline = *(ulong*)(info + 24);
            if (cmdline != 0) boot.CommandLine = (byte*)cmdline;
            boot.AcpiRsdp = *(ulong*)(info + 32);
            if (version >= 1)
            {
                ulong map = *(ulong*)(info + 40);
                uint entries = *(uint*)(info + 48);
                for (uint i = 0; i < entries; i++)
                {
                    // hvm_memmap_table_entry { u64 addr; u64 size; u32 type; u32 reserved; }
                    ulong addr = *(ulong*)(map + i * 24);
                    ulong size = *(ulong*)(map + i * 24 + 8);
                    uint type = *(uint*)(map + i * 24 + 16);
                    if (type != 1) continue;
                    boot.RamTotal += size;
                    // The region the kernel was loaded into: the boot map covers it.
                    if (addr <= Symbols.ImageStart && Symbols.ImageStart - addr < size)
                    {
                        boot.RamStart = addr;
                        boot.RamEnd = addr + size;
                    }
                }
            }
            if (boot.AcpiRsdp == 0) boot.AcpiRsdp = Acpi.FindRsdpInBios();
            return boot;
        }
    }
}
