namespace GuestOS.Kernel.Arch
{
    // arm64 VMSAv8-64 descriptors, 4 KiB granule (ARM ARM D8.3). MAIR (entry.S): attribute 0 is
    // Normal write-back, attribute 1 Device-nGnRnE.
    internal static class PageTableFormat
    {
        private const ulong Valid = 1UL << 0, TableBit = 1UL << 1, DeviceAttr = 1UL << 2,
                            AccessFlag = 1UL << 10, InnerShareable = 3UL << 8, PXN = 1UL << 53, UXN = 1UL << 54;

        internal static ulong Root() => Machine.ReadTtbr0() & 0x0000FFFFFFFFF000UL;
        internal static bool IsValid(ulong entry) => (entry & Valid) != 0;
        internal static bool IsTable(ulong entry, int level) => (entry & TableBit) != 0;
        internal static ulong Table(ulong phys) => phys | Valid | TableBit;

        // A 2 MiB block of Device-nGnRnE memory, never executable.
        internal static ulong DeviceBlock(ulong phys) => phys | Valid | DeviceAttr | AccessFlag | PXN | UXN;

        // A valid block (not a table) whose MAIR index (bits 4:2) selects Device-nGnRnE.
        internal static bool IsDeviceBlock(ulong entry) => (entry & (Valid | TableBit)) == Valid && (entry & 0x1C) == DeviceAttr;

        // A 2 MiB block of Normal write-back memory (MAIR attribute 0), inner shareable, never
        // executable.
        internal static ulong NormalBlock(ulong phys) => phys | Valid | InnerShareable | AccessFlag | PXN | UXN;

        internal static bool IsNormalBlock(ulong entry) => (entry & (Valid | TableBit)) == Valid && (entry & 0x1C) == 0;

        internal static void Synchronize() => Machine.SyncPageTables();

        internal static void Invalidate(ulong va) => Machine.SyncPageTables();
    }
}
