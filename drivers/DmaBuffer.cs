namespace GuestOS.Hal
{
    // A block of DMA-coherent memory from Hal.Dma (Linux: dma_alloc_coherent's cpu address and
    // dma_addr_t). Part of the seam's contract, so it is defined once, here, for both worlds:
    // Virt is what the CPU uses, Phys what is written into rings for the device.
    public unsafe struct DmaBuffer
    {
        public byte* Virt;
        public ulong Phys;
        public ulong Size;
        public bool IsNull => Virt == null;
    }
}
