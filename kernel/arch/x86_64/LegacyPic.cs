using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The two 8259A PICs of the PC. The BIOS leaves the master's IRQs 0-7 on vectors 8-15, where
    // the CPU's exceptions live: the timer tick (IRQ0) would arrive as a "double fault" the
    // moment interrupts are enabled. Like Linux with an APIC, move them out of the way
    // (0x20-0x2F) and mask every line; all our interrupts come through the local APIC.
    internal static class LegacyPic
    {
        private const ushort MasterCommand = 0x20, MasterData = 0x21, SlaveCommand = 0xA0, SlaveData = 0xA1;

        internal static void RemapAndMask()
        {
            Io.outb(MasterCommand, 0x11);   // ICW1: initialization, ICW4 follows
            Io.outb(SlaveCommand, 0x11);
            Io.outb(MasterData, 0x20);      // ICW2: vector base 0x20
            Io.outb(SlaveData, 0x28);       //       and 0x28
            Io.outb(MasterData, 0x04);      // ICW3: slave on IRQ2
            Io.outb(SlaveData, 0x02);       //       slave identity 2
            Io.outb(MasterData, 0x01);      // ICW4: 8086 mode
            Io.outb(SlaveData, 0x01);
            Io.outb(MasterData, 0xFF);      // OCW1: mask all
            Io.outb(SlaveData, 0xFF);
        }
    }
}
