using GuestOS.Hal;

namespace GuestOS.Kernel.Memory
{
    // The kernel heap behind `new`: a bump allocator over a fixed region. There is no garbage
    // collector and no free; a kernel that runs one workload and exits needs neither, and
    // running out is a clear panic rather than a corrupted heap.
    internal static unsafe class Heap
    {
        private static ulong start, cursor, end;

        internal static void Init(ulong regionStart, ulong regionEnd)
        {
            start = cursor = (regionStart + 15) & ~15UL;
            end = regionEnd;
        }

        internal static ulong Start => start;
        internal static ulong Used => cursor - start;
        internal static ulong Size => end - start;

        // Zeroed, 8-byte aligned memory for one object.
        internal static void* Allocate(ulong bytes)
        {
            ulong size = (bytes + 7) & ~7UL;
            if (size > end - cursor)
            {
                Log.Line();
                Log.Write("heap: cannot allocate "u8); Log.Dec(bytes);
                Log.Write(" bytes: "u8); Log.Dec(Used); Log.Write(" of "u8); Log.Dec(Size);
                Log.Write(" bytes in use"u8);
                Log.Line();
                Panic.Halt("out of memory: kernel heap exhausted"u8);
            }
            ulong* p = (ulong*)cursor;
            cursor += size;
            for (ulong i = 0; i < size / 8; i++) p[i] = 0;
            return p;
        }
    }
}
