using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // A CPU exception in the kernel is always fatal: report everything a developer needs to
    // find it (vector, error code, RIP, CR2 for page faults, the registers), then fail.
    internal static unsafe class Faults
    {
        private static string Name(ulong vector)
        {
            switch (vector)
            {
                case 0: return "#DE divide error";
                case 1: return "#DB debug";
                case 2: return "NMI";
                case 3: return "#BP breakpoint";
                case 4: return "#OF overflow";
                case 5: return "#BR bound range";
                case 6: return "#UD invalid opcode";
                case 7: return "#NM device not available";
                case 8: return "#DF double fault";
                case 10: return "#TS invalid TSS";
                case 11: return "#NP segment not present";
                case 12: return "#SS stack fault";
                case 13: return "#GP general protection";
                case 14: return "#PF page fault";
                case 16: return "#MF x87 floating point";
                case 17: return "#AC alignment check";
                case 18: return "#MC machine check";
                case 19: return "#XM SIMD floating point";
                default: return "reserved exception";
            }
        }

        internal static void Report(InterruptFrame* f)
        {
            Log.Line();
            Log.Write("FAULT: vector "); Log.Dec(f->Vector);
            Log.Write(" ("); Log.Write(Name(f->Vector)); Log.Write(")");
            Log.Write(" error="); Log.Hex(f->ErrorCode);
            Log.Write(" RIP="); Log.Hex(f->Rip, 16);
            if (f->Vector == 14) { Log.Write(" CR2="); Log.Hex(Machine.ReadCr2(), 16); }
            Log.Line();
            Register("RAX", f->Rax); Register("RBX", f->Rbx); Register("RCX", f->Rcx); Register("RDX", f->Rdx); Log.Line();
            Register("RSI", f->Rsi); Register("RDI", f->Rdi); Register("RBP", f->Rbp); Register("RSP", f->Rsp); Log.Line();
            Register("R8 ", f->R8); Register("R9 ", f->R9); Register("R10", f->R10); Register("R11", f->R11); Log.Line();
            Register("R12", f->R12); Register("R13", f->R13); Register("R14", f->R14); Register("R15", f->R15); Log.Line();
            Register("RFLAGS", f->Rflags); Register("CS", f->Cs); Register("SS", f->Ss); Log.Line();
            Verdict.Fail("fault", ExitCode.Fault);
        }

        private static void Register(string name, ulong value)
        {
            Log.Write("  "); Log.Write(name); Log.Write('='); Log.Hex(value, 16);
        }
    }
}
