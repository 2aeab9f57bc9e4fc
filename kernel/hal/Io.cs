using System.Runtime;
using System.Runtime.CompilerServices;
using GuestOS.Drivers.Narration;

namespace GuestOS.Hal
{
    // Bare-metal register access: each method calls a one-instruction assembly accessor
    // (boot/<arch>/io.S) through [RuntimeImport], a plain call the compiler can neither inline
    // nor reorder memory accesses across, so every access is exactly one of its width (make
    // check-accessors proves the accessors). After it, when narration or the rwmmio trace is on,
    // the access is handed to the narration layer (drivers/narration/AccessLog.cs).
    public static class Io
    {
        // Every access so far: under TCG each one leaves translated code for QEMU's device
        // model, so the boot phases (BootPhases) count them.
        public static ulong Accesses;

        public static byte ioread8(ulong addr) { byte v = raw_ioread8(addr); Accesses++; if (AccessLog.Active) AccessLog.Access(false, false, 1, addr, v); return v; }
        public static ushort ioread16(ulong addr) { ushort v = raw_ioread16(addr); Accesses++; if (AccessLog.Active) AccessLog.Access(false, false, 2, addr, v); return v; }
        public static uint ioread32(ulong addr) { uint v = raw_ioread32(addr); Accesses++; if (AccessLog.Active) AccessLog.Access(false, false, 4, addr, v); return v; }
        public static ulong ioread64(ulong addr) { ulong v = raw_ioread64(addr); Accesses++; if (AccessLog.Active) AccessLog.Access(false, false, 8, addr, v); return v; }
        public static void iowrite8(ulong addr, byte value) { raw_iowrite8(addr, value); Accesses++; if (AccessLog.Active) AccessLog.Access(false, true, 1, addr, value); }
        public static void iowrite16(ulong addr, ushort value) { raw_iowrite16(addr, value); Accesses++; if (AccessLog.Active) AccessLog.Access(false, true, 2, addr, value); }
        public static void iowrite32(ulong addr, uint value) { raw_iowrite32(addr, value); Accesses++; if (AccessLog.Active) AccessLog.Access(false, true, 4, addr, value); }
        public static void iowrite64(ulong addr, ulong value) { raw_iowrite64(addr, value); Accesses++; if (AccessLog.Active) AccessLog.Access(false, true, 8, addr, value); }

        // x86 port I/O. The arm64 symbols panic: that architecture has no I/O ports.
        public static byte inb(ushort port) { byte v = raw_inb(port); Accesses++; if (AccessLog.Active) AccessLog.Access(true, false, 1, port, v); return v; }
        public static ushort inw(ushort port) { ushort v = raw_inw(port); Accesses++; if (AccessLog.Active) AccessLog.Access(true, false, 2, port, v); return v; }
        public static uint inl(ushort port) { uint v = raw_inl(port); Accesses++; if (AccessLog.Active) AccessLog.Access(true, false, 4, port, v); return v; }
        public static void outb(ushort port, byte value) { raw_outb(port, value); Accesses++; if (AccessLog.Active) AccessLog.Access(true, true, 1, port, value); }
        public static void outw(ushort port, ushort value) { raw_outw(port, value); Accesses++; if (AccessLog.Active) AccessLog.Access(true, true, 2, port, value); }
        public static void outl(ushort port, uint value) { raw_outl(port, value); Accesses++; if (AccessLog.Active) AccessLog.Access(true, true, 4, port, value); }

        // Linux's ioremap: map device memory uncached and return its address (identity mapped).
        public static ulong ioremap(ulong phys, ulong size) => Kernel.Memory.PageTables.MapDevice(phys, size);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread8")] private static extern byte raw_ioread8(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread16")] private static extern ushort raw_ioread16(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread32")] private static extern uint raw_ioread32(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread64")] private static extern ulong raw_ioread64(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite8")] private static extern void raw_iowrite8(ulong addr, byte value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite16")] private static extern void raw_iowrite16(ulong addr, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite32")] private static extern void raw_iowrite32(ulong addr, uint value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite64")] private static extern void raw_iowrite64(ulong addr, ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "inb")] private static extern byte raw_inb(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "inw")] private static extern ushort raw_inw(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "inl")] private static extern uint raw_inl(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "outb")] private static extern void raw_outb(ushort port, byte value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "outw")] private static extern void raw_outw(ushort port, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "outl")] private static extern void raw_outl(ushort port, uint value);
    }
}
