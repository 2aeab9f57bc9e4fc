using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The PC's CMOS real-time clock (MC146818; index port 0x70, data port 0x71), used by
    // test=wired only: its periodic interrupt is the one wired line every PC machine QEMU has
    // (pc, q35, microvm) that software can start, because an IOAPIC cannot raise a line
    // itself. Register A's rate (QEMU's reset value 0x26: 1024 Hz) is left alone; register B
    // bit 6 (PIE) turns the periodic interrupt on; reading register C acknowledges it, and
    // QEMU's RTC keeps its IRQ line raised until then (rtc_periodic_timer / cmos_ioport_read),
    // which makes it a true level source.
    internal static class CmosRtc
    {
        internal const uint IsaIrq = 8;
        private const byte RegisterB = 0x0B, RegisterC = 0x0C, PeriodicInterruptEnable = 0x40;

        internal static void StartPeriodic()
        {
            Read(RegisterC);                                           // clear anything stale
            Write(RegisterB, (byte)(Read(RegisterB) | PeriodicInterruptEnable));
        }

        // From the handler: stop, then acknowledge (which lowers the line).
        internal static void StopAndAcknowledge()
        {
            Write(RegisterB, (byte)(Read(RegisterB) & ~PeriodicInterruptEnable));
            Read(RegisterC);
        }

        private static byte Read(byte register) { Io.outb(0x70, register); return Io.inb(0x71); }
        private static void Write(byte register, byte value) { Io.outb(0x70, register); Io.outb(0x71, value); }
    }
}
