using System;
using GuestOS.Hal;
using GuestOS.Kernel.Arch;

namespace GuestOS.Kernel
{
    // How the kernel ends. The runner (tools/runner) decodes the QEMU exit status as
    // (code << 1) | 1 on both architectures, and also requires the verdict line.
    public enum ExitCode : uint
    {
        Pass = 0x10,
        Fail = 0x11,
        Panic = 0x12,
        Fault = 0x13,
        NoDevice = 0x14,
    }

    public static class Panic
    {
        private static bool panicking;

        // A broken invariant: print why, then fail the run. Never returns.
        public static void Halt(ReadOnlySpan<byte> message)
        {
            if (panicking) Machine.Exit(ExitCode.Panic);  // a panic inside a panic: just stop
            panicking = true;
            Log.Line();
            Log.Write("PANIC: "u8);
            Log.Write(message);
            Log.Line();
            Verdict.Fail("panic"u8, ExitCode.Panic);
        }
    }

    public static class Verdict
    {
        public static void Pass()
        {
            Log.Write("GUESTOS-VERDICT: PASS"u8);
            Log.Line();
            Machine.Exit(ExitCode.Pass);
        }

        public static void Fail(ReadOnlySpan<byte> reason, ExitCode code)
        {
            Log.Write("GUESTOS-VERDICT: FAIL "u8);
            Log.Write(reason);
            Log.Line();
            Machine.Exit(code);
        }
    }
}
