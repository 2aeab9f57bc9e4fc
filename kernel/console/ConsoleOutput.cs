using GuestOS.Kernel.Arch;

namespace GuestOS.Kernel.Console
{
    // Where console characters go: the UART the architecture found (16550 on x86, PL011 on
    // arm64). Before it exists (the heap is not up yet), the architecture's early console
    // takes them, so that even the earliest panic is seen.
    public static class ConsoleOutput
    {
        internal static Uart Device;

        public static void Put(char c)
        {
            Uart device = Device;
            if (device != null) device.Put((byte)c);
            else Machine.EarlyConsolePut((byte)c);
        }
    }

    // A serial port that can send one byte at a time.
    public abstract class Uart
    {
        public abstract void Put(byte b);
    }
}
