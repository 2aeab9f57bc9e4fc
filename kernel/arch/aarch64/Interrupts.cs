using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // IRQs on arm64 through the GIC found in the device tree. GICv2 (with the v2m MSI frame) is
    // supported; GICv3 and its ITS are not written yet, so there interrupts stay off and
    // drivers poll.
    internal static class Interrupts
    {
        private const uint FirstSgi = 1;                 // SGI 0 left unused
        private static InterruptHandler[] handlers;      // by INTID (SGIs 0-15, SPIs 32-1019)
        private static bool gicV2;
        private static uint nextSgi = FirstSgi;
        internal static ulong Taken, Unexpected;

        internal static void Init()
        {
            gicV2 = GicV2.Init();
            if (gicV2) handlers = new InterruptHandler[1020];
            else { Log.Write("gic: no GICv2 (GICv3/ITS support is not written yet): interrupts off, drivers poll"); Log.Line(); }
        }

        // A software-generated interrupt number for self tests.
        internal static bool AllocateVector(InterruptHandler handler, out uint vector)
        {
            vector = 0;
            if (!gicV2 || nextSgi > 15) return false;
            vector = nextSgi++;
            handlers[vector] = handler;
            GicV2.Enable(vector);
            return true;
        }

        internal static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
        {
            message = default;
            if (!gicV2 || !GicV2.AllocateMsiSpi(out uint spi, out ulong doorbell)) return false;
            handlers[spi] = handler;
            message.Address = doorbell;
            message.Data = spi;
            return true;
        }

        internal static void SendSelfTest(uint vector)
        {
            if (!gicV2) Panic.Halt("interrupts: no supported interrupt controller");
            GicV2.SendSelf(vector);
        }

        // IRQ exception: acknowledge, run the handler, end of interrupt (GICv2 4.4.4-4.4.5).
        internal static void Handle()
        {
            if (!gicV2) { Unexpected++; return; }
            uint iar = GicV2.Acknowledge();
            uint intid = iar & 0x3FF;
            if (intid >= GicV2.FirstSpecialIntid) return;
            Taken++;
            InterruptHandler handler = handlers[intid];
            if (handler != null) handler.Handle();
            else { Unexpected++; Log.Write("interrupt: unexpected INTID "); Log.Dec(intid); Log.Line(); }
            GicV2.EndOfInterrupt(iar);
        }
    }
}
