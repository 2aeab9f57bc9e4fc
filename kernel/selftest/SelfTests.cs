using GuestOS.Hal;

namespace GuestOS.Kernel
{
    // Deliberate failures and checks selected with `test=NAME` on the command line, so the
    // test suite can prove that faults are reported, the heap works and a hang is caught.
    internal static class SelfTests
    {
        internal static void Run()
        {
            if (CommandLine.Is("test", "boot")) { Log.Write("test boot: booted; no workload"); Log.Line(); Verdict.Pass(); }
            else if (CommandLine.Is("test", "fault-null")) FaultTests.NullDereference();
            else if (CommandLine.Is("test", "fault-divide")) FaultTests.DivideByZero();
            else if (CommandLine.Is("test", "fault-undefined")) FaultTests.UndefinedInstruction();
            else if (CommandLine.Is("test", "fault-unaligned")) FaultTests.UnalignedAccess();
            else if (CommandLine.Is("test", "heap")) HeapTests.Run();
            else if (CommandLine.Is("test", "oom")) HeapTests.OutOfMemory();
            else if (CommandLine.Is("test", "hang")) Hang();
            else if (CommandLine.Is("test", "irq")) IrqTests.SelfInterrupt();
            else if (CommandLine.Is("test", "panic")) Panic.Halt("requested by test=panic");
            Verdict.Fail("unknown test= value (boot, irq, fault-null, fault-divide, fault-undefined, fault-unaligned, heap, oom, hang, panic)", ExitCode.Fail);
        }

        private static void Hang()
        {
            Log.Write("test hang: spinning forever; the runner must time out");
            Log.Line();
            while (true) Cpu.Relax();
        }
    }
}
