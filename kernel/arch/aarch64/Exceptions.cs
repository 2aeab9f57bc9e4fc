using System.Runtime;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // What boot/aarch64/vectors.S saved.
    public unsafe struct ExceptionFrame
    {
        public fixed ulong X[31];
        public ulong Kind;                 // vector index 0-15
        public ulong Elr, Spsr, Esr, Far;
    }

    // Synchronous exceptions in the kernel are fatal: report the exception class and the
    // syndrome, return address and fault address (ARM ARM D17.2.37, ESR_EL1), then fail.
    internal static unsafe class Exceptions
    {
        [RuntimeExport("arm64_exception")]
        private static void Dispatch(ExceptionFrame* frame)
        {
            ulong type = frame->Kind & 3;        // 0 sync, 1 IRQ, 2 FIQ, 3 SError
            if (type == 1) { Interrupts.Handle(); return; }
            ulong ec = frame->Esr >> 26;
            if (type == 0 && ec == 0 && frame->Elr == Machine.SemihostingHltAddress())
            {
                Log.Write("exit: semihosting is off (QEMU needs -semihosting); PSCI SYSTEM_OFF, whose exit status is always 0");
                Log.Line();
                Machine.PsciSystemOff();
            }
            Report(frame, type, ec);
        }

        [RuntimeExport("port_io_unsupported")]
        private static void PortIoUnsupported() => Panic.Halt("x86 port I/O used on arm64");

        private static string ClassName(ulong ec)
        {
            switch (ec)
            {
                case 0x00: return "unknown reason (undefined instruction)";
                case 0x01: return "WFI/WFE trapped";
                case 0x07: return "FP/SIMD access trapped";
                case 0x0E: return "illegal execution state";
                case 0x15: return "SVC";
                case 0x16: return "HVC";
                case 0x17: return "SMC";
                case 0x18: return "MSR/MRS trapped";
                case 0x20: return "instruction abort from a lower EL";
                case 0x21: return "instruction abort";
                case 0x22: return "PC alignment fault";
                case 0x24: return "data abort from a lower EL";
                case 0x25: return "data abort";
                case 0x26: return "SP alignment fault";
                case 0x2F: return "SError";
                case 0x3C: return "BRK";
                default: return "other";
            }
        }

        private static void Report(ExceptionFrame* f, ulong type, ulong ec)
        {
            Log.Line();
            Log.Write("FAULT: ");
            Log.Write(type == 0 ? "synchronous exception" : type == 2 ? "FIQ" : "SError");
            Log.Write(", exception class "); Log.Hex(ec, 2);
            Log.Write(" ("); Log.Write(ClassName(ec)); Log.Write(")");
            Log.Line();
            Log.Write("  ESR="); Log.Hex(f->Esr, 8);
            Log.Write(" ELR="); Log.Hex(f->Elr, 16);
            Log.Write(" FAR="); Log.Hex(f->Far, 16);
            if (ec == 0x24 || ec == 0x25)
            {
                ulong dfsc = f->Esr & 0x3F;
                Log.Write(" DFSC="); Log.Hex(dfsc, 2);
                Log.Write(dfsc == 0x21 ? " (alignment fault)" : (dfsc & 0x3C) == 0x04 ? " (translation fault)" : "");
                Log.Write((f->Esr & (1 << 6)) != 0 ? " write" : " read");
            }
            Log.Line();
            for (int i = 0; i < 31; i++)
            {
                Log.Write(i < 10 ? "  x" : " x"); Log.Dec((ulong)i); Log.Write('='); Log.Hex(f->X[i], 16);
                if (i % 4 == 3) Log.Line();
            }
            Log.Line();
            Verdict.Fail("fault", ExitCode.Fault);
        }
    }
}
