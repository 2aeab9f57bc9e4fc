using GuestOS.Kernel.Memory;

namespace GuestOS.Hal
{
    // Memory a device reads and writes (Linux: dma_alloc_coherent). The kernel identity-maps
    // RAM and both QEMU machines are cache-coherent for DMA, so the CPU address is the bus
    // address and no cache maintenance is needed.

    public static unsafe class Dma
    {
        public static DmaBuffer AllocCoherent(ulong size)
        {
            ulong pages = (size + PageAllocator.PageSize - 1) / PageAllocator.PageSize;
            ulong phys = PageAllocator.Allocate(pages);
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
