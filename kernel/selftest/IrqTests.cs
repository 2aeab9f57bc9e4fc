using GuestOS.Hal;
using GuestOS.Kernel.Arch;

namespace GuestOS.Kernel
{
    // test=irq: an interrupt the CPU sends itself travels the whole delivery path (interrupt
    // controller, vector table, assembly stub, C# dispatch, handler, end of interrupt) and
    // wakes the race-free wait. Where the platform can raise an MSI without a device (GICv2m,
    // the GICv3 ITS), two MSIs allocated exactly as a driver allocates them (Irq.AllocateMsi)
    // are raised too, each of which must reach its own handler. Last, a wait with nothing to
    // wake it must be ended by the wake-up timer at its deadline.
    internal static class IrqTests
    {
        private const ulong ArrivalDeadlineNs = 1000000000;   // an interrupt sent to ourselves: 1 s is generous
        private const ulong TimerTestNs = 5000000;           // the wake-up timer test's deadline, 5 ms

        // No device sits at 00:1f.0 in these tests: the requester ID is only a name for the
        // interrupt controller's tables.
        private const ushort TestRequester = 0x00F8;

        private sealed class Counter : InterruptHandler
        {
            public ulong Count;
            public override void Handle() => Count++;
        }

        internal static void SelfInterrupt()
        {
            Counter counter = new Counter();
            if (!Interrupts.AllocateVector(counter, out uint vector))
                Verdict.Fail("no interrupt vector could be allocated"u8, ExitCode.Fail);
            for (int round = 1; round <= 3; round++)
            {
                Irq.DisableLocal();
                Interrupts.SendSelfTest(vector);
                ulong waits = WaitFor(counter, (ulong)round);
                Log.Write("test irq: self interrupt "u8); Log.Dec((ulong)round); Log.Write(" on vector "u8);
                Log.Dec(vector); Log.Write(" handled after "u8); Log.Dec(waits); Log.Write(" wait(s)"u8); Log.Line();
            }
            if (Interrupts.CanRaiseMsiWithoutDevice) MsiWithoutDevice();
            WaitWithNothingPending();
            if (Interrupts.Unexpected != 0) Verdict.Fail("unexpected interrupts arrived"u8, ExitCode.Fail);
            Verdict.Pass();
        }

        private static void MsiWithoutDevice()
        {
            Counter first = new Counter(), second = new Counter();
            if (!Irq.AllocateMsi(TestRequester, first, out MsiMessage a)) Verdict.Fail("no MSI could be allocated"u8, ExitCode.Fail);
            if (!Irq.AllocateMsi(TestRequester, second, out MsiMessage b)) Verdict.Fail("no second MSI could be allocated"u8, ExitCode.Fail);
            Raise(a, first, 1);
            Raise(b, second, 1);
            Raise(a, first, 2);
            if (first.Count != 2 || second.Count != 1) Verdict.Fail("an MSI reached the wrong handler"u8, ExitCode.Fail);
        }

        // Raise the MSI and wait until its handler has run `expected` times in all.
        private static void Raise(MsiMessage message, Counter counter, ulong expected)
        {
            Irq.DisableLocal();
            Interrupts.RaiseMsiForTest(TestRequester, message);
            ulong waits = WaitFor(counter, expected);
            if (counter.Count != expected) Verdict.Fail("an MSI was delivered more than once"u8, ExitCode.Fail);
            Log.Write("test irq: MSI address "u8); Log.Hex(message.Address); Log.Write(" data "u8); Log.Dec(message.Data);
            Log.Write(" handled after "u8); Log.Dec(waits); Log.Write(" wait(s)"u8); Log.Line();
        }

        // Sleep (interrupts masked between looks) until the handler has run `expected` times in
        // all, then unmask; the number of waits it took.
        private static ulong WaitFor(Counter counter, ulong expected)
        {
            ulong deadline = Clock.NowNs() + ArrivalDeadlineNs, waits = 0;
            while (counter.Count < expected && Clock.NowNs() < deadline) { Irq.WaitLocalDisabled(deadline); waits++; }
            Irq.EnableLocal();
            if (counter.Count < expected) Verdict.Fail("an interrupt sent to this CPU did not arrive within 1 s"u8, ExitCode.Fail);
            return waits;
        }

        // No interrupt is coming: only the wake-up timer can end the sleep. It must not end it
        // early (the wait loop would spin), and it must end it at all (the kernel would hang;
        // the runner's timeout would be the only report).
        private static void WaitWithNothingPending()
        {
            ulong taken = Irq.Taken, waits = 0;
            Irq.DisableLocal();
            ulong deadline = Clock.NowNs() + TimerTestNs;
            while (Clock.NowNs() < deadline) { Irq.WaitLocalDisabled(deadline); waits++; }
            Irq.EnableLocal();
            ulong lateUs = (Clock.NowNs() - deadline) / 1000;
            Log.Write("test irq: a wait with nothing pending ended "u8); Log.Dec(lateUs); Log.Write(" us after its 5 ms deadline, after "u8);
            Log.Dec(waits); Log.Write(" wait(s) and "u8); Log.Dec(Irq.Taken - taken); Log.Write(" timer interrupt(s)"u8); Log.Line();
            if (Irq.Taken == taken) Verdict.Fail("the wake-up timer never fired: a wait ended without an interrupt"u8, ExitCode.Fail);
            if (waits > 3) Verdict.Fail("waits ended before their deadline: the wake-up timer fires early"u8, ExitCode.Fail);
        }
    }
}
