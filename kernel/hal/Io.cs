using System.Runtime;
using System.Runtime.CompilerServices;

namespace GuestOS.Hal
{
    // Bare-metal register access: each method is a direct call to a one-instruction assembly
    // accessor (boot/<arch>/io.S). [RuntimeImport] compiles to a plain call, which the
    // compiler can neither inline nor reorder memory accesses across.
    public static class Io
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread8")] public static extern byte ioread8(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread16")] public static extern ushort ioread16(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread32")] public static extern uint ioread32(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "ioread64")] public static extern ulong ioread64(ulong addr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite8")] public static extern void iowrite8(ulong addr, byte value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite16")] public static extern void iowrite16(ulong addr, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite32")] public static extern void iowrite32(ulong addr, uint value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "iowrite64")] public static extern void iowrite64(ulong addr, ulong value);

        // x86 port I/O. The arm64 symbols panic: that architecture has no I/O ports.
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "inb")] public static extern byte inb(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "inw")] public static extern ushort inw(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "inl")] public static extern uint inl(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "outb")] public static extern void outb(ushort port, byte value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "outw")] public static extern void outw(ushort port, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "outl")] public static extern void outl(ushort port, uint value);

        // Linux's ioremap: map device memory uncached and return its address (identity mapped).
        public static ulong ioremap(ulong phys, ulong size) => Kernel.Memory.PageTables.MapDevice(phys, size);
    }
}
