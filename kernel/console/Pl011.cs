using GuestOS.Hal;

namespace GuestOS.Kernel.Console
{
    // ARM PrimeCell PL011 UART (found in the device tree as "arm,pl011").
    public sealed class Pl011 : Uart
    {
        private const ulong UARTDR = 0x00, UARTFR = 0x18, UARTLCR_H = 0x2C;
        private const uint FR_BUSY = 1 << 3;    // still sending
        private const uint FR_TXFE = 1 << 7;    // transmit FIFO empty
        private const uint LCR_H_FEN = 1 << 4, LCR_H_WLEN_8 = 3 << 5;
        private const int FifoBytes = 16;       // every PL011 revision (r1p5 has 32)
        private readonly ulong base_;
        private int room;

        // QEMU resets the UART with its FIFOs off; turn them on with 8N1, as Linux's
        // pl011_set_termios does, once whatever was being sent has gone (the TRM's rule for
        // changing UARTLCR_H). The baud rate is left as the firmware or QEMU set it.
        public Pl011(ulong mappedBase)
        {
            base_ = mappedBase;
            while ((Io.ioread32(base_ + UARTFR) & FR_BUSY) != 0) Hal.Cpu.Relax();
            Io.iowrite32(base_ + UARTLCR_H, LCR_H_WLEN_8 | LCR_H_FEN);
        }

        // One status read per empty FIFO rather than per byte (Linux's pl011_tx_chars fills the
        // FIFO likewise): under TCG each read is a trapped access like the data write.
        public override void Put(byte b)
        {
            if (room == 0)
            {
                while ((Io.ioread32(base_ + UARTFR) & FR_TXFE) == 0) Hal.Cpu.Relax();
                room = FifoBytes;
            }
            Io.iowrite32(base_ + UARTDR, b);
            room--;
        }
    }
}
