using System;
using System.Collections.Generic;

namespace GuestOS.Hal.Hosted
{
    public enum IoSpace { Mmio, Port }
    public enum IoDir { Read, Write }

    // One register access as the driver issued it.
    public readonly struct IoAccess
    {
        public readonly IoSpace Space;
        public readonly IoDir Dir;
        public readonly ulong Addr;
        public readonly int Width;   // bytes: 1, 2, 4, 8
        public readonly ulong Value; // value written, or value the device returned

        public IoAccess(IoSpace space, IoDir dir, ulong addr, int width, ulong value)
        {
            Space = space; Dir = dir; Addr = addr; Width = width; Value = value;
        }

        public override string ToString()
        {
            return $"{(Dir == IoDir.Read ? "R" : "W")}{Width * 8} {(Space == IoSpace.Port ? "port" : "mmio")} 0x{Addr:x} = 0x{Value:x}";
        }
    }

    // The simulated bus behind GuestOS.Hal.Io (hosted world only; drivers never see this).
    public interface IIoHandler
    {
        ulong Read(IoSpace space, ulong addr, int width);
        void Write(IoSpace space, ulong addr, int width, ulong value);
    }

    public static class IoBus
    {
        public static IIoHandler Handler;
        public static bool Record = true;
        public static readonly List<IoAccess> Trace = new List<IoAccess>();
        public static readonly List<(ulong Phys, ulong Size)> Remaps = new List<(ulong, ulong)>();

        public static void Reset()
        {
            Handler = null;
            Record = true;
            Trace.Clear();
            Remaps.Clear();
        }

        internal static ulong Read(IoSpace space, ulong addr, int width)
        {
            if (Handler == null) throw new InvalidOperationException("no simulated bus registered (IoBus.Handler)");
            ulong v = Handler.Read(space, addr, width);
            ulong mask = width == 8 ? ulong.MaxValue : (1UL << (width * 8)) - 1;
            v &= mask;
            if (Record) Trace.Add(new IoAccess(space, IoDir.Read, addr, width, v));
            return v;
        }

        internal static void Write(IoSpace space, ulong addr, int width, ulong value)
        {
            if (Handler == null) throw new InvalidOperationException("no simulated bus registered (IoBus.Handler)");
            if (Record) Trace.Add(new IoAccess(space, IoDir.Write, addr, width, value));
            Handler.Write(space, addr, width, value);
        }

        internal static ulong Remap(ulong phys, ulong size)
        {
            Remaps.Add((phys, size));
            if (RemapFails) return 0;
            return phys;
        }

        // Knob: make ioremap fail (returns 0), as a kernel out of virtual address space would.
        public static bool RemapFails;
    }
}
