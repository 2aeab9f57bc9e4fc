using GuestOS.Hal;

namespace GuestOS.Kernel.Console
{
    // The PC's 16550 UART at an I/O port base (COM1 = 0x3F8). QEMU needs no baud set-up, but a
    // real 16550 does, so program 115200 8N1 as Linux's early console does.
    public sealed class Serial16550 : Uart
    {
        private const ushort DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5;
        private const byte LSR_THRE = 0x20;     // transmit holding register empty
        private readonly ushort port;

        public Serial16550(ushort port)
        {
            this.port = port;
            Io.outb((ushort)(port + IER), 0x00);   // no UART interrupts
            Io.outb((ushort)(port + LCR), 0x80);   // DLAB on: divisor latch
            Io.outb((ushort)(port + DATA), 0x01);  // divisor 1 = 115200 baud
            Io.outb((ushort)(port + IER), 0x00);
            Io.outb((ushort)(port + LCR), 0x03);   // 8 data bits, no parity, 1 stop bit
            Io.outb((ushort)(port + FCR), 0x07);   // FIFOs on and cleared
            Io.outb((ushort)(port + MCR), 0x03);   // DTR | RTS
        }

        // With the FIFOs on, THRE means the whole 16-byte transmit FIFO is empty, so one status
        // read makes room for 16 bytes, as Linux's serial8250_tx_chars writes up to tx_loadsz
        // after each THRE. Under TCG the status read is a trapped access like the data write:
        // the banner before DRIVER_OK costs about half the accesses.
        private const int FifoBytes = 16;
        private int room;

        public override void Put(byte b)
        {
            if (room == 0)
            {
                while ((Io.inb((ushort)(port + LSR)) & LSR_THRE) == 0) Hal.Cpu.Relax();
                room = FifoBytes;
            }
            Io.outb((ushort)(port + DATA), b);
            room--;
        }
    }
}
