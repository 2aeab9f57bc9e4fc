using System;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // Device interrupt vectors 0x30-0xEB, each routed to a handler; every interrupt is
    // acknowledged at the local APIC. Vectors 0x20-0x2F stay free (where a PIC would land);
    // the local APIC timer has 0xEC, Linux's LOCAL_TIMER_VECTOR.
    internal static class Interrupts
    {
        private const uint FirstVector = 0x30, LastVector = 0xEB;
        internal const uint LocalTimerVector = 0xEC;
        private static InterruptHandler[] handlers;
        private static uint nextVector = FirstVector;
        internal static ulong Taken, Unexpected;

        internal static void Init()
        {
            handlers = new InterruptHandler[256];
            LegacyPic.RemapAndMask();
            LocalApic.Init();
            Madt.Parse(Acpi.Rsdp);            // the IOAPICs, all lines masked, and the ISA overrides
        }

        internal static bool AllocateVector(InterruptHandler handler, out uint vector)
        {
            vector = 0;
            if (handlers == null || nextVector > LastVector) return false;
            vector = nextVector++;
            handlers[vector] = handler;
            return true;
        }

        internal static void AttachLocalTimer(InterruptHandler handler) => handlers[LocalTimerVector] = handler;

        internal static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
        {
            message = default;
            if (!AllocateVector(handler, out uint vector)) return false;
            message.Address = LocalApic.MsiAddress;
            message.Data = vector;               // fixed delivery, edge triggered
            return true;
        }

        internal static void Handle(uint vector)
        {
            if (vector == LocalApic.SpuriousVector) return;    // spurious: no EOI (SDM 11.9)
            Taken++;
            InterruptHandler handler = handlers == null ? null : handlers[vector];
            if (handler != null) handler.Handle();
            else
            {
                Unexpected++;
                Log.Write("interrupt: unexpected vector "u8); Log.Dec(vector); Log.Line();
            }
            LocalApic.EndOfInterrupt();
        }

        internal static void SendSelfTest(uint vector) => LocalApic.SendSelf(vector);

        // An MSI is a write by a PCI function to 0xFEE00000; the same write by the CPU reaches
        // its own local APIC's register page instead, so there is no MSI without a device.
        internal static bool CanRaiseMsiWithoutDevice => false;

        internal static void RaiseMsiForTest(ushort requesterId, MsiMessage message)
            => Panic.Halt("interrupts: x86 cannot raise an MSI without a device"u8);

        // A wired line (an IOAPIC GSI) to a fresh vector on this CPU, with the trigger and
        // polarity the platform described; masked until now (IoApic.Add masks every entry).
        // A level line that has a handler is shared (PCI INTx; SharedLine).
        internal static bool AttachWired(WiredIrq irq, InterruptHandler handler)
        {
            if (!irq.Valid || handler == null) return false;
            if (irq.Number >= 256 || !IoApic.Has(irq.Number)) return RefuseWired(irq.Number, "no IOAPIC has it"u8);
            uint vector = wiredVector[irq.Number];
            if (vector != 0)
            {
                WiredIrq line = irq;   // as the IOAPIC entry was set when first attached
                line.Level = IoApic.IsLevel(irq.Number);
                line.ActiveLow = IoApic.IsActiveLow(irq.Number);
                InterruptHandler shared = SharedLine.Attach(handlers[vector], line, irq, handler, out ReadOnlySpan<byte> why);
                if (shared == null) return RefuseWired(irq.Number, why);
                handlers[vector] = shared;
                return true;
            }
            if (!AllocateVector(handler, out vector)) return RefuseWired(irq.Number, "no free vector"u8);
            wiredVector[irq.Number] = vector;
            IoApic.Route(irq.Number, vector, irq.Level, irq.ActiveLow, LocalApic.Id);
            return true;
        }

        private static readonly uint[] wiredVector = new uint[256];   // by GSI: its vector, 0 = none

        private static bool RefuseWired(uint gsi, ReadOnlySpan<byte> why)
        {
            Log.Write("ioapic: GSI "u8); Log.Dec(gsi); Log.Write(" refused: "u8); Log.Write(why); Log.Line();
            return false;
        }

        // PCI INTx on pc and q35: the interrupt line firmware wrote (SeaBIOS: the ISA IRQ its
        // PIRQ routing gave the pin, pci_irqs 10, 10, 11, 11; 0 or 0xFF = none) reaches the
        // IOAPIC pin of that ISA IRQ (on q35 too: the ICH9 LPC drives the routed ISA IRQ as well
        // as GSI 16-23, ich9_lpc_update_pic), through the MADT's source overrides. PCI INTx is
        // level-triggered. Polarity: QEMU's DSDT describes its PCI interrupt links (LNKA-LNKD on
        // pc, LNKA-LNKH and GSIA-GSIH on q35) as Interrupt (ResourceConsumer, Level, ActiveHigh,
        // Shared) (hw/i386/acpi-build.c build_link_dev, build_gsi_link_dev) and its MADT
        // overrides ISA IRQs 5, 9, 10 and 11 as level, active high (hw/i386/acpi-common.c,
        // pci_irq_mask; the boot prints them); QEMU's IOAPIC never reads the polarity bit
        // (hw/intc/ioapic.c ioapic_entry_parse, ioapic_set_irq), so active high is what agrees
        // with QEMU's own tables. An override's explicit flags win over these defaults.
        internal static bool RoutePciIntx(ushort requesterId, byte pin, byte line, out WiredIrq irq)
        {
            irq = default;
            if (pin < 1 || pin > 4) return RefuseIntx(requesterId, pin, line, "the pin is not 1-4 (INTA-INTD)"u8);
            if (line == 0 || line == 0xFF) return RefuseIntx(requesterId, pin, line, "firmware assigned no interrupt line"u8);
            if (line >= 16) return RefuseIntx(requesterId, pin, line, "the interrupt line is not an ISA IRQ"u8);
            irq.Number = Madt.IsaGsi(line, out ushort flags);
            irq.Level = !Madt.SaysEdge(flags);
            irq.ActiveLow = Madt.SaysActiveLow(flags);
            irq.Valid = true;
            if (!IoApic.Has(irq.Number)) return RefuseIntx(requesterId, pin, line, "no IOAPIC has its GSI"u8);
            if (!Log.Quiet)
            {
                Log.Write("ioapic: PCI "u8); Log.Hex(requesterId, 4); Log.Write(" INT"u8); Log.Write((char)('A' + pin - 1));
                Log.Write(" line "u8); Log.Dec(line); Log.Write(" -> GSI "u8); Log.Dec(irq.Number);
                Log.Write(irq.Level ? " level"u8 : " edge"u8); Log.Write(irq.ActiveLow ? ", active low"u8 : ", active high"u8); Log.Line();
            }
            return true;
        }

        private static bool RefuseIntx(ushort requesterId, byte pin, byte line, ReadOnlySpan<byte> why)
        {
            Log.Write("ioapic: no INTx route for PCI "u8); Log.Hex(requesterId, 4); Log.Write(" pin "u8); Log.Dec(pin);
            Log.Write(" line "u8); Log.Dec(line); Log.Write(": "u8); Log.Write(why); Log.Line();
            return false;
        }

        internal static bool IntxUsesFirmwareLine => true;

        // test=wired's line: the CMOS RTC's ISA IRQ 8 through the MADT, asked for as a level
        // line (QEMU's RTC holds it up until register C is read), so three rounds prove that
        // the EOI re-arms a level entry (remote IRR cleared).
        internal static bool WiredTestLine(int index, out WiredIrq irq)
        {
            irq = default;
            if (index > 0) return false;
            irq.Number = Madt.IsaGsi(CmosRtc.IsaIrq, out _);
            irq.Level = true;
            irq.Valid = true;
            return true;
        }

        internal static void RaiseWiredForTest(uint gsi) => CmosRtc.StartPeriodic();
        internal static void AcknowledgeWiredTestLine() => CmosRtc.StopAndAcknowledge();
        internal static bool WiredIsLevel(uint gsi) => IoApic.IsLevel(gsi);
    }
}
