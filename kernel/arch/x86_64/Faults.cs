using System;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // A CPU exception in the kernel is always fatal: report everything a developer needs to
    // find it (vector, error code, RIP, CR2 for page faults, the registers), then fail.
    internal static unsafe class Faults
    {
        private static ReadOnlySpan<byte> Name(ulong vector)
        {
            switch (vector)
            {
                case 0: return "#DE divide error"u8;
                case 1: return "#DB debug"u8;
                case 2: return "NMI"u8;
                case 3: return "#BP breakpoint"u8;
                case 4: return "#OF overflow"u8;
                case 5: return "#BR bound range"u8;
                case 6: return "#UD invalid opcode"u8;
                case 7: return "#NM device not available"u8;
                case 8: return "#DF double fault"u8;
                case 10: return "#TS invalid TSS"u8;
                case 11: return "#NP segment not present"u8;
                case 12: return "#SS stack fault"u8;
                case 13: return "#GP general protection"u8;
                case 14: return "#PF page fault"u8;
                case 16: return "#MF x87 floating point"u8;
                case 17: return "#AC alignment check"u8;
                case 18: return "#MC machine check"u8;
                case 19: return "#XM SIMD floating point"u8;
                default: return "reserved exception"u8;
            }
        }

        internal static void Report(InterruptFrame* f)
        {
            Log.Line();
            Log.Write("FAULT: vector "u8); Log.Dec(f->Vector);
            Log.Write(" ("u8); Log.Write(Name(f->Vector)); Log.Write(")"u8);
            Log.Write(" error="u8); Log.Hex(f->ErrorCode);
            Log.Write(" RIP="u8); Log.Hex(f->Rip, 16);
            if (f->Vector == 14) { Log.Write(" CR2="u8); Log.Hex(Machine.ReadCr2(), 16); }
            Log.Line();
            Register("RAX"u8, f->Rax); Register("RBX"u8, f->Rbx); Register("RCX"u8, f->Rcx); Register("RDX"u8, f->Rdx); Log.Line();
            Register("RSI"u8, f->Rsi); Register("RDI"u8, f->Rdi); Register("RBP"u8, f->Rbp); Register("RSP"u8, f->Rsp); Log.Line();
            Register("R8 "u8, f->R8); Register("R9 "u8, f->R9); Register("R10"u8, f->R10); Register("R11"u8, f->R11); Log.Line();
            Register("R12"u8, f->R12); Register("R13"u8, f->R13); Register("R14"u8, f->R14); Register("R15"u8, f->R15); Log.Line();
            Register("RFLAGS"u8, f->Rflags); Register("CS"u8, f->Cs); Register("SS"u8, f->Ss); Log.Line();
            Verdict.Fail("fault"u8, ExitCode.Fault);
        }

        private static void Register(ReadOnlySpan<byte> name, ulong value)
        {
            Log.Write("  "u8); Log.Write(name); Log.Write('='); Log.Hex(value, 16);
        }
    }
}
