using GuestOS.Hal;
using GuestOS.Kernel.Arch;

namespace GuestOS.Kernel
{
    // test=irq: an interrupt the CPU sends itself travels the whole delivery path (interrupt
    // controller, vector table, assembly stub, C# dispatch, handler, end of interrupt) and
    // wakes the race-free wait.
    internal static class IrqTests
    {
        private sealed class Counter : InterruptHandler
        {
            public ulong Count;
            public override void Handle() => Count++;
        }

        internal static void SelfInterrupt()
        {
            Counter counter = new Counter();
            if (!Interrupts.AllocateVector(counter, out uint vector))
                Verdict.Fail("no interrupt vector could be allocated", ExitCode.Fail);
            for (int round = 1; round <= 3; round++)
            {
                Irq.DisableLocal();
                Interrupts.SendSelfTest(vector);
                ulong waits = 0;
                while (counter.Count < (ulong)round) { Irq.WaitLocalDisabled(); waits++; }
                Irq.EnableLocal();
                Log.Write("test irq: self interrupt "); Log.Dec((ulong)round); Log.Write(" on vector ");
                Log.Dec(vector); Log.Write(" handled after "); Log.Dec(waits); Log.Write(" wait(s)"); Log.Line();
            }
            if (Interrupts.Unexpected != 0) Verdict.Fail("unexpected interrupts arrived", ExitCode.Fail);
            Verdict.Pass();
        }
    }
}
