namespace GuestOS.Kernel.Memory
{
    // Identity mappings made after boot: device memory (Linux: ioremap) and firmware tables in
    // RAM outside the boot map (Linux: memremap(MEMREMAP_WB), as acpi_os_map_memory does).
    // Both architectures use 4-level tables of 512 entries with 4 KiB pages: x86_64
    // PML4/PDPT/PD/PT and arm64 with a 48-bit VA (levels 0-3). Only the entry encodings differ
    // (arch/*/PageTableFormat.cs). Mappings are 2 MiB blocks: uncached / Device-nGnRnE for
    // devices, write-back for firmware tables.
    public static unsafe class PageTables
    {
        private const ulong BlockSize = 2UL << 20;
        private const ulong AddressMask = 0x0000FFFFFFFFF000UL;

        // Returns phys (the mapping is the identity), or 0 if it cannot be mapped.
        public static ulong MapDevice(ulong phys, ulong size) => Map(phys, size, device: true);

        // Firmware's tables (ACPI) may lie anywhere in RAM, also above what the boot map covers:
        // the kernel maps them before reading them, never dereferences them unmapped.
        public static ulong MapFirmware(ulong phys, ulong size) => Map(phys, size, device: false);

        private static ulong Map(ulong phys, ulong size, bool device)
        {
            if (size == 0) return phys;
            ulong first = phys & ~(BlockSize - 1);
            ulong last = (phys + size - 1) & ~(BlockSize - 1);
            if (phys + size - 1 < phys || last >= (1UL << 48)) return 0;
            for (ulong block = first; ; block += BlockSize)
            {
                if (!MapBlock(block, device)) return 0;
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

        // Ensure the 2 MiB block at `address` is mapped with the wanted memory type. A block of
        // that type mapped before is reused. Device registers inside an existing RAM mapping
        // fail, because behind a cached mapping they would be read stale and written late; a
        // firmware table inside RAM the boot map covers (a larger block, or 4 KiB pages) is
        // already readable.
        private static bool MapBlock(ulong address, bool device)
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
                    return !device;                               // inside a larger (RAM) block
                }
                table = (ulong*)(*entry & AddressMask);
            }
            ulong* leaf = table + ((address >> 21) & 511);
            if (!Arch.PageTableFormat.IsValid(*leaf))
                *leaf = device ? Arch.PageTableFormat.DeviceBlock(address) : Arch.PageTableFormat.NormalBlock(address);
            if (device) return Arch.PageTableFormat.IsDeviceBlock(*leaf);
            return Arch.PageTableFormat.IsTable(*leaf, 2) || Arch.PageTableFormat.IsNormalBlock(*leaf);
        }
    }
}
