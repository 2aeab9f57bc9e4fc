using GuestOS.Hal;

namespace GuestOS.Kernel
{
    // Deliberate failures and checks selected with `test=NAME` on the command line, so the
    // test suite can prove that faults are reported, the heap works and a hang is caught.
    internal static class SelfTests
    {
        internal static void Run()
        {
            if (CommandLine.Is("test"u8, "boot"u8)) { Log.Write("test boot: booted; no workload"u8); Log.Line(); Verdict.Pass(); }
            else if (CommandLine.Is("test"u8, "fault-null"u8)) FaultTests.NullDereference();
            else if (CommandLine.Is("test"u8, "fault-divide"u8)) FaultTests.DivideByZero();
            else if (CommandLine.Is("test"u8, "fault-undefined"u8)) FaultTests.UndefinedInstruction();
            else if (CommandLine.Is("test"u8, "fault-unaligned"u8)) FaultTests.UnalignedAccess();
            else if (CommandLine.Is("test"u8, "heap"u8)) HeapTests.Run();
            else if (CommandLine.Is("test"u8, "oom"u8)) HeapTests.OutOfMemory();
            else if (CommandLine.Is("test"u8, "hang"u8)) Hang();
            else if (CommandLine.Is("test"u8, "irq"u8)) IrqTests.SelfInterrupt();
            else if (CommandLine.Is("test"u8, "wired"u8)) WiredTests.Run();
            else if (CommandLine.Is("test"u8, "panic"u8)) Panic.Halt("requested by test=panic"u8);
            Verdict.Fail("unknown test= value (boot, irq, wired, fault-null, fault-divide, fault-undefined, fault-unaligned, heap, oom, hang, panic)"u8, ExitCode.Fail);
        }

        private static void Hang()
        {
            Log.Write("test hang: spinning forever; the runner must time out"u8);
            Log.Line();
            while (true) Cpu.Relax();
        }
    }
}
