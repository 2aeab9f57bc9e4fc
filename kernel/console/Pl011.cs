using GuestOS.Hal;

namespace GuestOS.Kernel.Console
{
    // ARM PrimeCell PL011 UART (found in the device tree as "arm,pl011").
    public sealed class Pl011 : Uart
    {
        private const ulong UARTDR = 0x00, UARTFR = 0x18;
        private const uint FR_TXFF = 1 << 5;    // transmit FIFO full
        private readonly ulong base_;

        public Pl011(ulong mappedBase) { base_ = mappedBase; }

        public override void Put(byte b)
        {
            while ((Io.ioread32(base_ + UARTFR) & FR_TXFF) != 0) Hal.Cpu.Relax();
            Io.iowrite32(base_ + UARTDR, b);
        }
    }
}
