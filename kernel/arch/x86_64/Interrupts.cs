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

        internal static bool WiredTestLine(int index, out WiredIrq irq) { irq = default; Panic.Halt("test wired: not written for x86 yet"u8); return false; }
        internal static void AcknowledgeWiredTestLine() { }
        internal static bool IntxUsesFirmwareLine => true;
        internal static void RaiseWiredForTest(uint gsi) { }
        internal static bool WiredIsLevel(uint gsi) => false;

        // Wired interrupts: not yet routed on this architecture.
        internal static bool AttachWired(WiredIrq irq, InterruptHandler handler) => false;

        internal static bool RoutePciIntx(ushort requesterId, byte pin, byte line, out WiredIrq irq)
        {
            irq = default;
            return false;
        }
    }
}
