using GuestOS.Hal.Hosted;

namespace GuestOS.Hal
{
    // HAL contract (drivers/README.md): register access. Hosted world: every call is exactly one
    // access of the stated width, recorded in IoTrace and handed to the simulated bus
    // registered in IoBus.Handler. Nothing here touches memory through a pointer.
    public static class Io
    {
        public static byte ioread8(ulong addr) { return (byte)Read(IoSpace.Mmio, addr, 1); }
        public static ushort ioread16(ulong addr) { return (ushort)Read(IoSpace.Mmio, addr, 2); }
        public static uint ioread32(ulong addr) { return (uint)Read(IoSpace.Mmio, addr, 4); }
        public static ulong ioread64(ulong addr) { return Read(IoSpace.Mmio, addr, 8); }
        public static void iowrite8(ulong addr, byte value) { Write(IoSpace.Mmio, addr, 1, value); }
        public static void iowrite16(ulong addr, ushort value) { Write(IoSpace.Mmio, addr, 2, value); }
        public static void iowrite32(ulong addr, uint value) { Write(IoSpace.Mmio, addr, 4, value); }
        public static void iowrite64(ulong addr, ulong value) { Write(IoSpace.Mmio, addr, 8, value); }

        public static byte inb(ushort port) { return (byte)Read(IoSpace.Port, port, 1); }
        public static ushort inw(ushort port) { return (ushort)Read(IoSpace.Port, port, 2); }
        public static uint inl(ushort port) { return (uint)Read(IoSpace.Port, port, 4); }
        public static void outb(ushort port, byte value) { Write(IoSpace.Port, port, 1, value); }
        public static void outw(ushort port, ushort value) { Write(IoSpace.Port, port, 2, value); }
        public static void outl(ushort port, uint value) { Write(IoSpace.Port, port, 4, value); }

        // As on metal: the access, then the narration layer's record of it.
        private static ulong Read(IoSpace space, ulong addr, int width)
        {
            ulong v = IoBus.Read(space, addr, width);
            if (GuestOS.Drivers.Narration.AccessLog.Active) GuestOS.Drivers.Narration.AccessLog.Access(space == IoSpace.Port, false, width, addr, v);
            return v;
        }

        private static void Write(IoSpace space, ulong addr, int width, ulong value)
        {
            IoBus.Write(space, addr, width, value);
            if (GuestOS.Drivers.Narration.AccessLog.Active) GuestOS.Drivers.Narration.AccessLog.Access(space == IoSpace.Port, true, width, addr, value);
        }

        // Hosted: device memory is identity mapped, so the "virtual" address is the physical one.
        public static ulong ioremap(ulong phys, ulong size) { return IoBus.Remap(phys, size); }
    }
}
