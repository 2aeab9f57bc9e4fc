using GuestOS.Hal.Hosted;

namespace GuestOS.Hal
{
    // HAL contract (drivers/README.md): register access. Hosted world: every call is exactly one
    // access of the stated width, recorded in IoTrace and handed to the simulated bus
    // registered in IoBus.Handler. Nothing here touches memory through a pointer.
    public static class Io
    {
        public static byte ioread8(ulong addr) { return (byte)IoBus.Read(IoSpace.Mmio, addr, 1); }
        public static ushort ioread16(ulong addr) { return (ushort)IoBus.Read(IoSpace.Mmio, addr, 2); }
        public static uint ioread32(ulong addr) { return (uint)IoBus.Read(IoSpace.Mmio, addr, 4); }
        public static ulong ioread64(ulong addr) { return IoBus.Read(IoSpace.Mmio, addr, 8); }
        public static void iowrite8(ulong addr, byte value) { IoBus.Write(IoSpace.Mmio, addr, 1, value); }
        public static void iowrite16(ulong addr, ushort value) { IoBus.Write(IoSpace.Mmio, addr, 2, value); }
        public static void iowrite32(ulong addr, uint value) { IoBus.Write(IoSpace.Mmio, addr, 4, value); }
        public static void iowrite64(ulong addr, ulong value) { IoBus.Write(IoSpace.Mmio, addr, 8, value); }

        public static byte inb(ushort port) { return (byte)IoBus.Read(IoSpace.Port, port, 1); }
        public static ushort inw(ushort port) { return (ushort)IoBus.Read(IoSpace.Port, port, 2); }
        public static uint inl(ushort port) { return (uint)IoBus.Read(IoSpace.Port, port, 4); }
        public static void outb(ushort port, byte value) { IoBus.Write(IoSpace.Port, port, 1, value); }
        public static void outw(ushort port, ushort value) { IoBus.Write(IoSpace.Port, port, 2, value); }
        public static void outl(ushort port, uint value) { IoBus.Write(IoSpace.Port, port, 4, value); }

        // Hosted: device memory is identity mapped, so the "virtual" address is the physical one.
        public static ulong ioremap(ulong phys, ulong size) { return IoBus.Remap(phys, size); }
    }
}
