namespace GuestOS.Kernel.Arch
{
    // x86_64 page-table entries (Intel SDM vol. 3, section 4.5).
    internal static class PageTableFormat
    {
        private const ulong Present = 1 << 0, Writable = 1 << 1, WriteThrough = 1 << 3,
                            CacheDisable = 1 << 4, PageSize = 1 << 7;

        internal static ulong Root() => Machine.ReadCr3() & 0x000FFFFFFFFFF000UL;
        internal static bool IsValid(ulong entry) => (entry & Present) != 0;
        internal static bool IsTable(ulong entry, int level) => (entry & PageSize) == 0;
        internal static ulong Table(ulong phys) => phys | Present | Writable;

        // A 2 MiB page, uncached (PCD | PWT select UC with the power-on PAT).
        internal static ulong DeviceBlock(ulong phys) => phys | Present | Writable | WriteThrough | CacheDisable | PageSize;

        // A 2 MiB page of write-back RAM (PAT entry 0).
        internal static ulong NormalBlock(ulong phys) => phys | Present | Writable | PageSize;

        internal static bool IsNormalBlock(ulong entry)
            => (entry & (Present | PageSize | WriteThrough | CacheDisable)) == (Present | PageSize);

        // The CPU sets Accessed/Dirty in entries it uses, so test the attributes, not equality.
        internal static bool IsDeviceBlock(ulong entry)
        {
            const ulong device = Present | WriteThrough | CacheDisable | PageSize;
            return (entry & device) == device;
        }

        // New entries only replace non-present ones, which the TLB never caches.
        internal static void Synchronize() { }

        internal static void Invalidate(ulong va) => Machine.InvalidatePage(va);
    }
}
