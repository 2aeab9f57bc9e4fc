using System;
using GuestOS.Hal;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel.Arch
{
    // The ITS command queue (ARM IHI 0069, "The ITS command queue"): a ring of 32-byte commands
    // in memory, GITS_CBASER says where. Software writes commands at GITS_CWRITER and moves it
    // on; the ITS executes them and moves GITS_CREADR after them. Every batch here is waited
    // for, so the ring is empty whenever a batch starts.
    internal static unsafe class ItsCommandQueue
    {
        private const ulong GITS_CBASER = 0x0080, GITS_CWRITER = 0x0088, GITS_CREADR = 0x0090;
        private const ulong GITS_CBASER_VALID = 1UL << 63;
        // InnerCache [61:59] = 0b111 (write-back, read/write-allocate), Shareability [11:10] =
        // Inner Shareable, Size [7:0] = pages - 1 (4 KiB pages).
        private const ulong InnerWriteBack = 7UL << 59, InnerShareable = 1UL << 10, ShareabilityMask = 3UL << 10;
        private const ulong GITS_CREADR_STALLED = 1UL << 0, OffsetMask = 0xFFFE0;   // Offset [19:5]
        private const uint CommandBytes = 32, QueueBytes = 4096;   // 128 commands
        private const ulong TimeoutNs = 100 * 1000 * 1000UL;

        private static ulong its;
        private static ulong* ring;
        private static uint write;                     // byte offset of the next command

        // Must run while the ITS is disabled (GITS_CBASER is read-only once it is enabled).
        internal static bool Init(ulong itsBase)
        {
            its = itsBase;
            ulong phys = PageAllocator.Allocate(QueueBytes / PageAllocator.PageSize);
            if (phys == 0) return false;
            ring = (ulong*)phys;
            Io.iowrite64(its + GITS_CBASER, GITS_CBASER_VALID | InnerWriteBack | phys | InnerShareable | (QueueBytes / 4096 - 1));
            if ((Io.ioread64(its + GITS_CBASER) & ShareabilityMask) == 0) return false;   // see Lpi.Init
            Io.iowrite64(its + GITS_CWRITER, 0);
            write = 0;
            return true;
        }

        // Append one command (four doublewords, DW0 first; IHI 0069, "ITS commands").
        internal static void Push(ulong dw0, ulong dw1, ulong dw2, ulong dw3)
        {
            uint after = (write + CommandBytes) % QueueBytes;
            if (after == (uint)(Io.ioread64(its + GITS_CREADR) & OffsetMask))
                Panic.Halt("its: command queue full (a batch longer than the ring)"u8);
            ulong* command = ring + write / 8;
            command[0] = dw0; command[1] = dw1; command[2] = dw2; command[3] = dw3;
            write = after;
        }

        // Hand the pushed commands to the ITS and wait until it has executed them all. A stall
        // (GITS_CREADR.Stalled: the ITS hit an error it reports) or no progress is a panic:
        // interrupts would silently go nowhere.
        internal static void Run(ReadOnlySpan<byte> what)
        {
            Barrier.wmb();                             // commands in memory before the doorbell
            Io.iowrite64(its + GITS_CWRITER, write);
            ulong deadline = Clock.NowNs() + TimeoutNs;
            while (true)
            {
                ulong creadr = Io.ioread64(its + GITS_CREADR);
                if ((creadr & GITS_CREADR_STALLED) != 0) Fail(what, "stalled on a command error (GITS_CREADR.Stalled)"u8, creadr);
                if ((creadr & OffsetMask) == write) return;
                if (Clock.NowNs() > deadline) Fail(what, "GITS_CREADR did not reach GITS_CWRITER within 100 ms"u8, creadr);
                Cpu.Relax();
            }
        }

        private static void Fail(ReadOnlySpan<byte> what, ReadOnlySpan<byte> why, ulong creadr)
        {
            Log.Write("its: "u8); Log.Write(what); Log.Write(": "u8); Log.Write(why);
            Log.Write(" (GITS_CREADR "u8); Log.Hex(creadr); Log.Write(", GITS_CWRITER "u8); Log.Hex(write); Log.Write(")"u8);
            Log.Line();
            Panic.Halt("its: the command queue failed"u8);
        }
    }
}
