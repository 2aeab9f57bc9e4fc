using GuestOS.Hal;
using GuestOS.Kernel.Arch;

namespace GuestOS.Kernel
{
    // test=wired: a wired line attached exactly as a driver attaches it (Irq.AttachWired) reaches
    // its handler, with the trigger type it was given, again and again (a level line is only
    // delivered a second time when the first end of interrupt re-armed it). The lines and how
    // they are raised come from the architecture (Interrupts.WiredTestLine): arm64 - the SPIs
    // of the first two virtio-mmio slots in the device tree, made pending through GICD_ISPENDR;
    // x86 - the CMOS RTC's periodic interrupt (ISA IRQ 8 through the MADT and the IOAPIC),
    // because an IOAPIC has no way to raise a line from software. Then the refusals.
    internal static class WiredTests
    {
        private const ulong ArrivalDeadlineNs = 1000000000;
        private const int Rounds = 3;

        // Counts, and acknowledges at the "device" as a driver's handler must before the EOI.
        private sealed class Counter : InterruptHandler
        {
            public ulong Count;
            public override void Handle() { Count++; Interrupts.AcknowledgeWiredTestLine(); }
        }

        internal static void Run()
        {
            Drivers.Virtio.VirtioMmioSlot[] slots = Platform.VirtioMmioSlots();
            Log.Write("test wired: "u8); Log.Dec((ulong)slots.Length); Log.Write(" virtio-mmio slot(s) described"u8); Log.Line();
            for (int i = 0; Interrupts.WiredTestLine(i, out WiredIrq irq); i++)
            {
                Counter counter = new Counter();
                if (!Irq.AttachWired(irq, counter)) Verdict.Fail("Irq.AttachWired refused a line the platform described"u8, ExitCode.Fail);
                if (Interrupts.WiredIsLevel(irq.Number) != irq.Level)
                    Verdict.Fail("the interrupt controller does not hold the trigger type that was asked for"u8, ExitCode.Fail);
                for (ulong round = 1; round <= Rounds; round++)
                {
                    Irq.DisableLocal();
                    Interrupts.RaiseWiredForTest(irq.Number);
                    ulong waits = WaitFor(counter, round);
                    if (counter.Count != round) Verdict.Fail("a wired interrupt was delivered more than once"u8, ExitCode.Fail);
                    Log.Write("test wired: line "u8); Log.Dec(irq.Number); Log.Write(irq.Level ? " level"u8 : " edge"u8);
                    Log.Write(" round "u8); Log.Dec(round); Log.Write(" handled after "u8); Log.Dec(waits); Log.Write(" wait(s)"u8); Log.Line();
                }
                SecondHandler(irq, counter);
            }
            PciIntxRoutes();
            WiredIrq bogus = default;
            bogus.Number = 5000; bogus.Valid = true;
            if (Irq.AttachWired(bogus, new Counter())) Verdict.Fail("a line the interrupt controller does not have was attached"u8, ExitCode.Fail);
            bogus.Number = 1; bogus.Valid = false;
            if (Irq.AttachWired(bogus, new Counter())) Verdict.Fail("a line marked not valid was attached"u8, ExitCode.Fail);
            Log.Write("test wired: refused a line the controller does not have and an invalid line"u8); Log.Line();
            if (Interrupts.Unexpected != 0) Verdict.Fail("unexpected interrupts arrived"u8, ExitCode.Fail);
            Verdict.Pass();
        }

        // A second handler on the line: a level line is shared (PCI INTx, SharedLine) and the next
        // interrupt runs both handlers; an edge line refuses it.
        private static void SecondHandler(WiredIrq irq, Counter first)
        {
            Counter second = new Counter();
            bool attached = Irq.AttachWired(irq, second);
            if (!irq.Level)
            {
                if (attached) Verdict.Fail("a second handler was attached to an edge-triggered line"u8, ExitCode.Fail);
                Log.Write("test wired: line "u8); Log.Dec(irq.Number); Log.Write(" edge refused a second handler"u8); Log.Line();
                return;
            }
            if (!attached) Verdict.Fail("a second handler was refused on a level-triggered line (PCI INTx lines are shared)"u8, ExitCode.Fail);
            Irq.DisableLocal();
            Interrupts.RaiseWiredForTest(irq.Number);
            WaitFor(second, 1);
            if (first.Count != Rounds + 1) Verdict.Fail("a shared line's interrupt did not run its first handler too"u8, ExitCode.Fail);
            Log.Write("test wired: line "u8); Log.Dec(irq.Number); Log.Write(" level shared by a second handler, both ran"u8); Log.Line();
        }

        // INTA-INTD of devices 1-4 on bus 0, as a firmware that wrote interrupt line 11 would
        // have them (x86 uses the line, arm64 the requester ID and pin), then a pin 0 (no INTx)
        // and a line 0xFF (x86: firmware assigned none), which must be refused. The boot tests
        // compare the answers with what QEMU's tables say.
        private static void PciIntxRoutes()
        {
            for (uint device = 1; device <= 4; device++)
                for (byte pin = 1; pin <= 4; pin++)
                {
                    ushort requester = (ushort)(device << 3);
                    bool routed = Irq.RoutePciIntx(requester, pin, 11, out WiredIrq irq);
                    Log.Write("test wired: INTx "u8); Log.Hex(requester, 4); Log.Write(" pin "u8); Log.Dec(pin);
                    if (!routed) { Log.Write(" -> no route"u8); Log.Line(); continue; }
                    Log.Write(" -> "u8); Log.Dec(irq.Number); Log.Write(irq.Level ? " level"u8 : " edge"u8);
                    Log.Write(irq.ActiveLow ? " active-low"u8 : " active-high"u8); Log.Line();
                }
            if (Irq.RoutePciIntx(0x0008, 0, 11, out _)) Verdict.Fail("an INTx route was given for pin 0 (no INTx pin)"u8, ExitCode.Fail);
            if (Interrupts.IntxUsesFirmwareLine && Irq.RoutePciIntx(0x0008, 1, 0xFF, out _))
                Verdict.Fail("an INTx route was given for interrupt line 0xFF (none assigned)"u8, ExitCode.Fail);
            if (!Interrupts.IntxUsesFirmwareLine && Irq.RoutePciIntx(0x0108, 1, 11, out _))
                Verdict.Fail("an INTx route was given for a function behind a bridge without swizzling"u8, ExitCode.Fail);
        }

        private static ulong WaitFor(Counter counter, ulong expected)
        {
            ulong deadline = Clock.NowNs() + ArrivalDeadlineNs, waits = 0;
            while (counter.Count < expected && Clock.NowNs() < deadline) { Irq.WaitLocalDisabled(deadline); waits++; }
            Irq.EnableLocal();
            if (counter.Count < expected) Verdict.Fail("a wired interrupt did not arrive within 1 s"u8, ExitCode.Fail);
            return waits;
        }
    }
}
