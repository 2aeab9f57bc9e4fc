using GuestOS.Hal;

namespace GuestOS.Drivers.Narration
{
    // Every device register access the HAL's Io performs, recorded so that a narrated step can
    // list exactly the accesses that happened (Narrate), or printed as it happens, as Linux's
    // rwmmio tracepoints do (kernel command line `rwmmio`). Io calls Access after the access
    // itself, which stays one accessor call of its width (make check-accessors).
    public static class AccessLog
    {
        public const int Max = 32;          // a step with more is summarised by its count
        private const byte Write = 0x10, Port = 0x20, WidthMask = 0x0F;

        public static bool Active;          // Io calls Access only when set: StepsOpen || Rwmmio
        public static bool StepsOpen;       // record for the narrated steps
        public static bool Rwmmio;          // print every access at once

        private static ulong[] _addrs, _values;
        private static byte[] _ops;
        private static int[] _regions;
        private static int _count;

        public static int Count => _count;

        public static void Configure(bool steps, bool rwmmio)
        {
            StepsOpen = steps;
            Rwmmio = rwmmio;
            Active = steps || rwmmio;
            _count = 0;
        }

        public static void Access(bool port, bool write, int width, ulong addr, ulong value)
        {
            int region = IoRegions.Find(port, addr);
            if (region < 0) return;
            byte op = (byte)(width | (write ? Write : 0) | (port ? Port : 0));
            if (Rwmmio)
            {
                Log.Write("rwmmio: "u8);
                WriteAccess(op, region, addr, value);
                Log.Line();
            }
            if (!StepsOpen) return;
            if (_addrs == null) { _addrs = new ulong[Max]; _values = new ulong[Max]; _ops = new byte[Max]; _regions = new int[Max]; }
            if (_count < Max) { _addrs[_count] = addr; _values[_count] = value; _ops[_count] = op; _regions[_count] = region; }
            _count++;
        }

        public static void Clear() { _count = 0; }

        // The step's accesses, in order: "iowrite8 common+0x14 device_status = 0x0f, ...", or
        // how many there were when they do not fit (rwmmio lists them all).
        internal static void WriteAll()
        {
            if (_count > Max) { Printk.Write("%u accesses (the rwmmio option lists them)"u8, (ulong)_count); return; }
            for (int i = 0; i < _count; i++)
            {
                if (i > 0) Log.Write(Steps.AccessSeparator);
                WriteAccess(_ops[i], _regions[i], _addrs[i], _values[i]);
            }
        }

        // "iowrite16 notify+0x0 = 0x0000", "inl port 0xcfc config_data = 0x10001af4"
        private static void WriteAccess(byte op, int region, ulong addr, ulong value)
        {
            int width = op & WidthMask;
            bool write = (op & Write) != 0;
            if ((op & Port) != 0)
                Log.Write(write ? (width == 1 ? "outb "u8 : width == 2 ? "outw "u8 : "outl "u8) : (width == 1 ? "inb "u8 : width == 2 ? "inw "u8 : "inl "u8));
            else
                Printk.Write(write ? "iowrite%u "u8 : "ioread%u "u8, (ulong)width * 8);
            IoRegions.WriteName(region, addr);
            Log.Write(" = "u8);
            Log.Hex(value, width * 2);
        }
    }
}
