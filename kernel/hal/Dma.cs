using GuestOS.Kernel.Memory;

namespace GuestOS.Hal
{
    // Memory a device reads and writes (Linux: dma_alloc_coherent). The kernel identity-maps
    // RAM and both QEMU machines are cache-coherent for DMA, so the CPU address is the bus
    // address and no cache maintenance is needed.

    public static unsafe class Dma
    {
        public static DmaBuffer AllocCoherent(ulong size) => Alloc(size, zero: true);

        // For buffers the device writes before the driver reads them (and the driver reads only
        // what the device reported writing): not zeroed.
        public static DmaBuffer AllocCoherentUninitialized(ulong size) => Alloc(size, zero: false);

        private static DmaBuffer Alloc(ulong size, bool zero)
        {
            ulong pages = (size + PageAllocator.PageSize - 1) / PageAllocator.PageSize;
            ulong phys = zero ? PageAllocator.Allocate(pages) : PageAllocator.AllocateUninitialized(pages);
            DmaBuffer buffer = default;
            if (phys == 0) return buffer;
            buffer.Virt = (byte*)phys;
            buffer.Phys = phys;
            buffer.Size = pages * PageAllocator.PageSize;
            return buffer;
        }

        public static void FreeCoherent(DmaBuffer buffer)
        {
            if (!buffer.IsNull) PageAllocator.Free(buffer.Phys, buffer.Size / PageAllocator.PageSize);
        }
    }
}
