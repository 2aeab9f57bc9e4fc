namespace GuestOS.Kernel.Memory
{
    // Identity mappings for device memory (Linux: ioremap). Both architectures use 4-level
    // tables of 512 entries with 4 KiB pages: x86_64 PML4/PDPT/PD/PT and arm64 with a 48-bit
    // VA (levels 0-3). Only the entry encodings differ (arch/*/PageTableFormat.cs). Devices are
    // mapped in 2 MiB blocks, uncached / Device-nGnRnE.
    public static unsafe class PageTables
    {
        private const ulong BlockSize = 2UL << 20;
        private const ulong AddressMask = 0x0000FFFFFFFFF000UL;

        public static ulong MapDevice(ulong phys, ulong size)
        {
            if (size == 0) return phys;
            ulong first = phys & ~(BlockSize - 1);
            ulong last = (phys + size - 1) & ~(BlockSize - 1);
            if (phys + size - 1 < phys || last >= (1UL << 48)) return 0;
            for (ulong block = first; ; block += BlockSize)
            {
                if (!MapBlock(block)) return 0;
                if (block == last) break;
            }
            Arch.PageTableFormat.Synchronize();
            return phys;
        }

        // Remove the mapping of page 0, so that null dereferences fault. Boot code may map it
        // while it reads what the boot loader left there.
        public static void UnmapNullPage()
        {
            ulong* table = (ulong*)Arch.PageTableFormat.Root();
            for (int level = 0; level < 3; level++)
            {
                ulong entry = table[0];
                if (!Arch.PageTableFormat.IsValid(entry) || !Arch.PageTableFormat.IsTable(entry, level)) return;
                table = (ulong*)(entry & AddressMask);
            }
            table[0] = 0;
            Arch.PageTableFormat.Invalidate(0);
        }

        // Ensure the 2 MiB block at `address` is mapped as a device. A device block mapped before
        // is reused; an address inside an existing RAM mapping (cacheable) fails, because device
        // registers behind a cached mapping would be read stale and written late.
        private static bool MapBlock(ulong address)
        {
            ulong* table = (ulong*)Arch.PageTableFormat.Root();
            for (int level = 0; level < 2; level++)
            {
                ulong* entry = table + ((address >> (39 - 9 * level)) & 511);
                if (!Arch.PageTableFormat.IsValid(*entry))
                {
                    ulong next = PageAllocator.Allocate(1);
                    if (next == 0) return false;
                    *entry = Arch.PageTableFormat.Table(next);
                }
                else if (!Arch.PageTableFormat.IsTable(*entry, level))
                {
                    return false;                                 // inside a larger (RAM) block
                }
                table = (ulong*)(*entry & AddressMask);
            }
            ulong* leaf = table + ((address >> 21) & 511);
            if (!Arch.PageTableFormat.IsValid(*leaf))
                *leaf = Arch.PageTableFormat.DeviceBlock(address);
            return Arch.PageTableFormat.IsDeviceBlock(*leaf);
        }
    }
}
