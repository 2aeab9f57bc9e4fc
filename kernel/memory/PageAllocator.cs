using GuestOS.Hal;

namespace GuestOS.Kernel.Memory
{
    // Physically contiguous 4 KiB pages for DMA buffers and page tables: a bitmap over one
    // RAM region with first-fit search. Pages come back zeroed unless the caller says a device
    // overwrites them first: under TCG zeroing is a store per 8 bytes and a host page fault per
    // new page (4 MiB of entropy buffers measured 13 ms of guest time before DRIVER_OK, busy host).
    public static unsafe class PageAllocator
    {
        public const ulong PageSize = 4096;

        private static ulong regionStart;     // first page's address
        private static ulong pageCount;
        private static byte[] used;           // one bit per page
        private static ulong searchFrom;      // first page that might be free
        internal static ulong PagesInUse;

        // The pool is [start, end); its bitmap comes from the heap, which must exist.
        internal static void Init(ulong start, ulong end)
        {
            regionStart = (start + PageSize - 1) & ~(PageSize - 1);
            pageCount = end > regionStart ? (end - regionStart) / PageSize : 0;
            used = new byte[(int)((pageCount + 7) / 8)];
        }

        public static ulong FreePages => pageCount - PagesInUse;
        public static ulong TotalPages => pageCount;

        // Returns the physical address of `count` contiguous zeroed pages, or 0.
        public static ulong Allocate(ulong count) => AllocateAligned(count, PageSize);

        // The same, with whatever the pages last held (freed pages are not wiped either).
        public static ulong AllocateUninitialized(ulong count) => AllocateAligned(count, PageSize, zero: false);

        // The same, starting at a multiple of `alignment` (a power of two, at least a page):
        // some device tables must be naturally aligned, e.g. the GICv3 LPI pending table
        // (64 KiB). First fit among the aligned starts.
        public static ulong AllocateAligned(ulong count, ulong alignment, bool zero = true)
        {
            if (count == 0 || used == null) return 0;
            if (alignment < PageSize || (alignment & (alignment - 1)) != 0)
                Panic.Halt("page allocator: alignment must be a power of two of at least a page"u8);
            ulong alignPages = alignment / PageSize;
            // Page index p is aligned when regionStart + p * PageSize is a multiple of alignment.
            ulong skew = (alignment - regionStart % alignment) % alignment / PageSize;
            ulong first = AlignUp(searchFrom, skew, alignPages);
            while (first + count <= pageCount)
            {
                ulong page = first;
                while (page < first + count && !IsUsed(page)) page++;
                if (page < first + count) { first = AlignUp(page + 1, skew, alignPages); continue; }
                for (ulong p = first; p < first + count; p++) SetUsed(p, true);
                PagesInUse += count;
                if (first == searchFrom) searchFrom = first + count;
                ulong address = regionStart + first * PageSize;
                if (zero) Zero(address, count);
                return address;
            }
            return 0;
        }

        public static void Free(ulong address, ulong count)
        {
            if (address < regionStart || (address - regionStart) % PageSize != 0)
                Panic.Halt("page allocator: freeing an address it never handed out"u8);
            ulong first = (address - regionStart) / PageSize;
            if (first + count > pageCount) Panic.Halt("page allocator: freeing past the end of the pool"u8);
            for (ulong p = first; p < first + count; p++)
            {
                if (!IsUsed(p)) Panic.Halt("page allocator: double free"u8);
                SetUsed(p, false);
            }
            PagesInUse -= count;
            if (first < searchFrom) searchFrom = first;
        }

        // The first page index >= page of the form skew + k * alignPages.
        private static ulong AlignUp(ulong page, ulong skew, ulong alignPages)
            => page <= skew ? skew : skew + (page - skew + alignPages - 1) / alignPages * alignPages;

        private static bool IsUsed(ulong page) => (used[page >> 3] & (1 << (int)(page & 7))) != 0;

        private static void SetUsed(ulong page, bool value)
        {
            if (value) used[page >> 3] |= (byte)(1 << (int)(page & 7));
            else used[page >> 3] &= (byte)~(1 << (int)(page & 7));
        }

        private static void Zero(ulong address, ulong pages)
        {
            ulong* p = (ulong*)address;
            ulong words = pages * PageSize / 8;
            for (ulong i = 0; i < words; i++) p[i] = 0;
        }
    }
}
