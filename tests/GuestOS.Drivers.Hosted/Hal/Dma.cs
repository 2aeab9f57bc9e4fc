using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace GuestOS.Hal
{
    // HAL contract: DMA-coherent memory. Hosted: real native memory, 4096-aligned and zeroed;
    // the "physical" address is simply the pointer value, so the simulated device reads and
    // writes the very bytes the driver sees.

    public static unsafe class Dma
    {
        public static DmaBuffer AllocCoherent(ulong size)
        {
            DmaBuffer b = default;
            if (size == 0 || Hosted.DmaPool.FailAllocations || Hosted.DmaPool.Outstanding + size > Hosted.DmaPool.Limit)
                return b;
            ulong rounded = (size + 4095) & ~4095UL;
            void* p = NativeMemory.AlignedAlloc((nuint)rounded, 4096);
            NativeMemory.Clear(p, (nuint)rounded);
            b.Virt = (byte*)p;
            b.Phys = (ulong)p;
            b.Size = size;
            Hosted.DmaPool.Add(b.Phys, rounded);
            return b;
        }

        public static void FreeCoherent(DmaBuffer buffer)
        {
            if (buffer.Virt == null) return;
            Hosted.DmaPool.Remove(buffer.Phys);
            NativeMemory.AlignedFree(buffer.Virt);
        }
    }
}

namespace GuestOS.Hal.Hosted
{
    // Bookkeeping of the hosted DMA memory: lets the simulated device refuse to touch anything
    // that is not DMA memory the driver owns (a buggy driver then produces a recorded device
    // error in the test instead of corrupting the test process).
    public static class DmaPool
    {
        private static readonly SortedDictionary<ulong, ulong> live = new SortedDictionary<ulong, ulong>();
        public static bool FailAllocations;
        public static ulong Limit = ulong.MaxValue;
        public static ulong Outstanding { get; private set; }
        public static int LiveCount => live.Count;
        public static long TotalAllocations { get; private set; }

        internal static void Add(ulong phys, ulong size) { live.Add(phys, size); Outstanding += size; TotalAllocations++; }
        internal static void Remove(ulong phys)
        {
            if (!live.TryGetValue(phys, out ulong size))
                throw new InvalidOperationException($"Dma.FreeCoherent of unknown buffer 0x{phys:x}");
            live.Remove(phys);
            Outstanding -= size;
        }

        // True if [phys, phys+len) lies entirely inside one live DMA allocation.
        public static bool Contains(ulong phys, ulong len)
        {
            foreach (var kv in live)
            {
                if (phys >= kv.Key && phys - kv.Key <= kv.Value && len <= kv.Value - (phys - kv.Key))
                    return true;
            }
            return false;
        }

        public static unsafe void Reset()
        {
            foreach (var kv in live) NativeMemory.AlignedFree((void*)kv.Key);
            live.Clear();
            Outstanding = 0;
            TotalAllocations = 0;
            FailAllocations = false;
            Limit = ulong.MaxValue;
        }
    }
}
