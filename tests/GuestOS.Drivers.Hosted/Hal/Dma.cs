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
            b.Virt = Hosted.DmaPool.Allocate(size, rounded);
            b.Phys = (ulong)b.Virt;
            b.Size = size;
            return b;
        }

        public static void FreeCoherent(DmaBuffer buffer)
        {
            if (buffer.Virt == null) return;
            Hosted.DmaPool.Free(buffer.Phys);
        }
    }
}

namespace GuestOS.Hal.Hosted
{
    // Bookkeeping of the hosted DMA memory: lets the simulated device refuse to touch anything
    // that is not DMA memory the driver owns (a buggy driver then produces a recorded device
    // error in the test instead of corrupting the test process).
    //
    // Every allocation sits between two guard pages, and the slack between its size and the
    // end of its last page is guard too; all guard bytes hold Canary. The device may touch
    // only the `size` bytes asked for (Contains), so a changed canary is a write by the code
    // under test (the ring code's pointers) outside every buffer: CheckCanaries names it.
    public static unsafe class DmaPool
    {
        public const ulong GuardSize = 4096;
        public const byte Canary = 0xCB;

        private struct Allocation { public ulong Size, Rounded; public byte* Base; }

        private static readonly SortedDictionary<ulong, Allocation> live = new SortedDictionary<ulong, Allocation>();
        public static bool FailAllocations;
        public static ulong Limit = ulong.MaxValue;
        public static ulong Outstanding { get; private set; }
        public static int LiveCount => live.Count;
        public static long TotalAllocations { get; private set; }

        // [guard page][size bytes, zeroed][slack to the page end][guard page]
        internal static byte* Allocate(ulong size, ulong rounded)
        {
            byte* base_ = LowPages.Map(rounded + 2 * GuardSize);
            byte* p = base_ + GuardSize;
            NativeMemory.Fill(base_, (nuint)GuardSize, Canary);
            NativeMemory.Clear(p, (nuint)size);
            NativeMemory.Fill(p + size, (nuint)(rounded - size + GuardSize), Canary);
            live.Add((ulong)p, new Allocation { Size = size, Rounded = rounded, Base = base_ });
            Outstanding += rounded;
            TotalAllocations++;
            return p;
        }

        internal static void Free(ulong phys)
        {
            if (!live.TryGetValue(phys, out Allocation a))
                throw new InvalidOperationException($"Dma.FreeCoherent of unknown buffer 0x{phys:x}");
            live.Remove(phys);
            Outstanding -= a.Rounded;
            LowPages.Unmap(a.Base, a.Rounded + 2 * GuardSize);
        }

        // True if [phys, phys+len) lies entirely inside the bytes one live allocation asked for.
        public static bool Contains(ulong phys, ulong len)
        {
            foreach (var kv in live)
            {
                if (phys >= kv.Key && phys - kv.Key <= kv.Value.Size && len <= kv.Value.Size - (phys - kv.Key))
                    return true;
            }
            return false;
        }

        // Every guard byte of every live allocation that no longer holds Canary, as
        // "0x<allocation> (size N): guard byte at +0x<offset> is 0x<value>" (offset from the
        // allocation's start; negative before it). Empty when nothing wrote outside.
        public static List<string> CheckCanaries()
        {
            var damaged = new List<string>();
            foreach (var kv in live)
            {
                byte* p = (byte*)kv.Key;
                Allocation a = kv.Value;
                for (long off = -(long)GuardSize; off < (long)(a.Rounded + GuardSize); off++)
                {
                    if (off == 0) off = (long)a.Size;   // skip the bytes handed out
                    if (p[off] != Canary)
                        damaged.Add($"0x{kv.Key:x} (size {a.Size}): guard byte at {(off < 0 ? "-" : "+")}0x{Math.Abs(off):x} is 0x{p[off]:x2}");
                }
            }
            return damaged;
        }

        public static void Reset()
        {
            foreach (var kv in live) LowPages.Unmap(kv.Value.Base, kv.Value.Rounded + 2 * GuardSize);
            live.Clear();
            Outstanding = 0;
            TotalAllocations = 0;
            FailAllocations = false;
            Limit = ulong.MaxValue;
        }
    }

    // Pages at low addresses, so that "physical" addresses look like a small machine's: the
    // legacy interfaces hand the device a 32-bit page number (QueuePFN, legacy queue_address),
    // which a process's usual heap addresses (0x7f..., 47 bits) do not fit. mmap with
    // MAP_FIXED_NOREPLACE from a bump pointer at 4 GiB; addresses are never reused, so a
    // stale pointer to freed DMA memory faults instead of aliasing a newer buffer.
    internal static unsafe class LowPages
    {
        private const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
        private static ulong _next = 1UL << 32;

        [DllImport("libc", SetLastError = true)]
        private static extern IntPtr mmap(IntPtr addr, UIntPtr length, int prot, int flags, int fd, IntPtr offset);

        [DllImport("libc", SetLastError = true)]
        private static extern int munmap(IntPtr addr, UIntPtr length);

        internal static byte* Map(ulong bytes)
        {
            lock (typeof(LowPages))
            {
                for (int attempt = 0; attempt < 64; attempt++)
                {
                    ulong at = _next;
                    _next += (bytes + 0xFFFF) & ~0xFFFFUL;
                    IntPtr p = mmap((IntPtr)(long)at, (UIntPtr)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, IntPtr.Zero);
                    if (p == (IntPtr)(long)at) return (byte*)p;
                    if (p != (IntPtr)(-1)) munmap(p, (UIntPtr)bytes);   // an old kernel ignored the flag
                }
                throw new InvalidOperationException($"no low pages for a {bytes}-byte DMA allocation near 0x{_next:x}");
            }
        }

        internal static void Unmap(byte* p, ulong bytes)
        {
            if (munmap((IntPtr)p, (UIntPtr)bytes) != 0) throw new InvalidOperationException($"munmap of DMA pages at 0x{(ulong)p:x} failed");
        }
    }
}
