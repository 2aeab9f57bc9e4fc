using System;
using GuestOS.Hal;
using GuestOS.Kernel.Arch;
using GuestOS.Kernel.Boot;
using GuestOS.Kernel.Memory;
using GuestOS.Kernel.Runtime;

namespace GuestOS.Kernel
{
    // The architecture-neutral kernel: memory first, then the workload the command line asks for.
    public static unsafe class KernelMain
    {
        public static ReadOnlySpan<byte> Version => "0.1"u8;
        private const ulong MaxHeapBytes = 16UL << 20;

        // The heap takes up to 16 MiB (a quarter of RAM at most) right after the image, the page
        // allocator the rest of the boot-mapped RAM. GC statics need the heap, so they follow.
        // Whatever the boot loader left in memory must have been read or copied before this.
        internal static void InitMemory(ref BootInfo boot, ulong mappedEnd)
        {
            CommandLine.Save(boot.CommandLine);
            // Before the interrupt controller and the firmware tables report what they found:
            // `quiet` keeps those lines off the console, whose every byte is a trapped access.
            Log.Quiet = CommandLine.Has("quiet"u8);
            ulong start = Symbols.ImageEnd;
            if (boot.RamStart > start) start = boot.RamStart;
            ulong end = boot.RamEnd < mappedEnd ? boot.RamEnd : mappedEnd;
            if (end <= start + (1UL << 20)) Panic.Halt("no usable RAM after the kernel image"u8);
            ulong heapBytes = (end - start) / 4;
            if (heapBytes > MaxHeapBytes) heapBytes = MaxHeapBytes;
            Heap.Init(start, start + heapBytes);
            StaticsInitializer.Run();
            PageAllocator.Init(start + heapBytes, end);
            boot.RamStart = start;
            boot.RamEnd = end;
            PageTables.UnmapNullPage();   // boot information is copied: null dereferences fault from here on
        }

        // The first line, printed as soon as a console exists (the boot benchmark measures it).
        internal static void Banner(ref BootInfo boot)
        {
            Log.Write("GuestOS "u8); Log.Write(Version); Log.Write(" "u8); Log.Write(Machine.Name);
            Log.Write(" booted by "u8); Log.Write(boot.Protocol);
            Log.Write(" - C# compiled by NativeAOT ilc, no .NET runtime"u8);
            Log.Line();
        }

        internal static void Run(ref BootInfo boot)
        {
            // Narrated steps list their register accesses; rwmmio prints every device access.
            Drivers.Narration.AccessLog.Configure(steps: !Log.Quiet, rwmmio: CommandLine.Has("rwmmio"u8));
            // What the boot found, as Linux prints at KERN_INFO: not under `quiet`, where
            // every console byte costs trapped accesses before DRIVER_OK.
            if (!Log.Quiet) Describe(ref boot);

            if (CommandLine.Has("test"u8)) { SelfTests.Run(); return; }
            Workload.Run(ref boot);
        }

        private static void Describe(ref BootInfo boot)
        {
            Log.Write("memory: RAM "u8); Log.Hex(boot.RamStart); Log.Write("-"u8); Log.Hex(boot.RamEnd);
            Log.Write(", heap "u8); Log.Dec(Heap.Size >> 10); Log.Write(" KiB, "u8);
            Log.Dec(PageAllocator.TotalPages); Log.Write(" pages for DMA"u8);
            // RAM outside the boot map (x86: above the first GiB, arm64: outside the kernel's
            // GiB) is reported and left alone, never dereferenced. The first MiB and the image
            // are not counted as used, hence the slack.
            if (boot.RamTotal > boot.RamEnd - boot.RamStart + (4UL << 20))
            {
                Log.Write("; "u8); Log.Dec((boot.RamTotal - (boot.RamEnd - boot.RamStart)) >> 20);
                Log.Write(" MiB more of the "u8); Log.Dec(boot.RamTotal >> 20);
                Log.Write(" MiB the firmware reports lie outside the boot map: not used"u8);
            }
            Log.Line();
            Log.Write("clock: "u8); Log.Dec(Timer.NowNs() / 1000); Log.Write(" us since entry"u8); Log.Line();
            Log.Write("command line: "u8); CommandLine.Print(); Log.Line();
        }
    }
}
