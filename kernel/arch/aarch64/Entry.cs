using System.Runtime;
using GuestOS.Drivers;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;
using GuestOS.Kernel.Console;

namespace GuestOS.Kernel.Arch
{
    // The first C# code on arm64, called by boot/aarch64/entry.S at EL1 with the MMU on and the
    // kernel's GiB mapped. Everything else - RAM size, the UART, the interrupt controller,
    // PCIe - comes from the device tree; nothing it provides is hard-coded.
    internal static unsafe class Entry
    {
        [RuntimeExport("kernel_entry")]
        private static void KernelEntry(ulong deviceTree)
        {
            Timer.MarkEntry();
            // An ELF boot passes x0 = 0 and QEMU puts the tree at the base of the RAM bank we
            // were loaded into; an Image boot passes its address in x0.
            if (deviceTree == 0) deviceTree = Symbols.ImageStart & ~(Machine.BootMapSize - 1);
            if (!DeviceTree.Init(deviceTree)) Machine.Exit(ExitCode.Panic);   // nothing to print with

            BootInfo boot = default;
            boot.Protocol = "devicetree"u8;
            boot.DeviceTree = deviceTree;
            DtNode memory = DeviceTree.FindByName("memory"u8, 0);
            if (!DeviceTree.GetReg(memory, 0, out boot.RamStart, out ulong ramSize)) Machine.Exit(ExitCode.Panic);
            boot.RamEnd = boot.RamStart + ramSize;
            boot.RamTotal = ramSize;
            if (DeviceTree.GetProperty(DeviceTree.FindByName("chosen"u8, 0), "bootargs"u8, out byte* args, out _))
                boot.CommandLine = args;

            ulong mapStart = Symbols.ImageStart & ~(Machine.BootMapSize - 1);
            KernelMain.InitMemory(ref boot, mapStart + Machine.BootMapSize);
            BootPhases.Mark(BootPhase.Memory);

            DtNode uart = DeviceTree.FindCompatible("arm,pl011"u8, 0);
            if (DeviceTree.GetReg(uart, 0, out ulong uartBase, out ulong uartSize))
                ConsoleOutput.Device = new Pl011(Io.ioremap(uartBase, uartSize));
            KernelMain.Banner(ref boot);
            BootPhases.Mark(BootPhase.Banner);
            Timer.Calibrate();
            BootPhases.Mark(BootPhase.Clock);
            Interrupts.Init();
            WakeupTimer.Init();
            BootPhases.Mark(BootPhase.Interrupts);
            KernelMain.Run(ref boot);
        }
    }
}
