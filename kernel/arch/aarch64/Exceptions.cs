using System;
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
                Log.Write("exit: semihosting is off (QEMU needs -semihosting); PSCI SYSTEM_OFF, whose exit status is always 0"u8);
                Log.Line();
                Machine.PsciSystemOff();
            }
            Report(frame, type, ec);
        }

        [RuntimeExport("port_io_unsupported")]
        private static void PortIoUnsupported() => Panic.Halt("x86 port I/O used on arm64"u8);

        private static ReadOnlySpan<byte> ClassName(ulong ec)
        {
            switch (ec)
            {
                case 0x00: return "unknown reason (undefined instruction)"u8;
                case 0x01: return "WFI/WFE trapped"u8;
                case 0x07: return "FP/SIMD access trapped"u8;
                case 0x0E: return "illegal execution state"u8;
                case 0x15: return "SVC"u8;
                case 0x16: return "HVC"u8;
                case 0x17: return "SMC"u8;
                case 0x18: return "MSR/MRS trapped"u8;
                case 0x20: return "instruction abort from a lower EL"u8;
                case 0x21: return "instruction abort"u8;
                case 0x22: return "PC alignment fault"u8;
                case 0x24: return "data abort from a lower EL"u8;
                case 0x25: return "data abort"u8;
                case 0x26: return "SP alignment fault"u8;
                case 0x2F: return "SError"u8;
                case 0x3C: return "BRK"u8;
                default: return "other"u8;
            }
        }

        private static void Report(ExceptionFrame* f, ulong type, ulong ec)
        {
            Log.Line();
            Log.Write("FAULT: "u8);
            Log.Write(type == 0 ? "synchronous exception"u8 : type == 2 ? "FIQ"u8 : "SError"u8);
            Log.Write(", exception class "u8); Log.Hex(ec, 2);
            Log.Write(" ("u8); Log.Write(ClassName(ec)); Log.Write(")"u8);
            Log.Line();
            Log.Write("  ESR="u8); Log.Hex(f->Esr, 8);
            Log.Write(" ELR="u8); Log.Hex(f->Elr, 16);
            Log.Write(" FAR="u8); Log.Hex(f->Far, 16);
            if (ec == 0x24 || ec == 0x25)
            {
                ulong dfsc = f->Esr & 0x3F;
                Log.Write(" DFSC="u8); Log.Hex(dfsc, 2);
                Log.Write(dfsc == 0x21 ? " (alignment fault)"u8 : (dfsc & 0x3C) == 0x04 ? " (translation fault)"u8 : ""u8);
                Log.Write((f->Esr & (1 << 6)) != 0 ? " write"u8 : " read"u8);
            }
            Log.Line();
            for (int i = 0; i < 31; i++)
            {
                Log.Write(i < 10 ? "  x"u8 : " x"u8); Log.Dec((ulong)i); Log.Write('='); Log.Hex(f->X[i], 16);
                if (i % 4 == 3) Log.Line();
            }
            Log.Line();
            Verdict.Fail("fault"u8, ExitCode.Fault);
        }
    }
}
