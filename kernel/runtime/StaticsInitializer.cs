using Internal.Runtime;

namespace GuestOS.Kernel.Runtime
{
    // Static fields of reference type live in per-class "GC static" holder objects that the
    // NativeAOT runtime allocates at start-up; until then the first access crashes. ilc lists
    // them in its module's ReadyToRun header (section GCStaticRegion = 201): int32 relative
    // pointers to cells whose low bits say "not yet allocated" (1) and "has preinitialized
    // data" (2). We do what the runtime's StartupCodeHelpers.InitializeStatics does.
    internal static unsafe class StaticsInitializer
    {
        private const uint ReadyToRunSignature = 0x00525452;   // "RTR"
        private const int GCStaticRegion = 201;
        private const long Uninitialized = 1, HasPreInitializedData = 2, FlagsMask = 3;

        // ReadyToRunHeader { u32 Signature; u16 Major, Minor; u32 Flags; u16 NumberOfSections;
        //                    u8 EntrySize; u8 EntryType; } then rows of
        // ModuleInfoRow { i32 SectionId; i32 Flags; void* Start; void* End; }
        internal static void Run()
        {
            for (ulong module = Symbols.ModulesStart; module < Symbols.ModulesEnd; module += 8)
            {
                byte* header = *(byte**)module;
                if (header == null) continue;
                if (*(uint*)header != ReadyToRunSignature) Panic.Halt("statics: bad ReadyToRun header signature"u8);
                int sections = *(ushort*)(header + 12);
                int entrySize = header[14];
                byte* row = header + 16;
                for (int i = 0; i < sections; i++, row += entrySize)
                {
                    if (*(int*)row == GCStaticRegion)
                        InitializeRegion(*(byte**)(row + 8), *(byte**)(row + 16));
                }
            }
        }

        private static byte* ReadRelative32(void* at) => (byte*)at + *(int*)at;

        private static void InitializeRegion(byte* start, byte* end)
        {
            for (byte* entry = start; entry < end; entry += 4)
            {
                long* cell = (long*)ReadRelative32(entry);
                long value = (long)ReadRelative32(cell);
                if ((value & Uninitialized) == 0) continue;       // already done
                MethodTable* holderType = (MethodTable*)(value & ~FlagsMask);
                object holder = Allocator.NewObject(holderType);
                byte* holderData = *(byte**)&holder + 8;
                if ((value & HasPreInitializedData) != 0)
                {
                    // Preinitialized fields (pointers to frozen objects) to copy in whole.
                    byte* data = ReadRelative32((int*)cell + 1);
                    ulong size = holderType->BaseSize - 16;       // minus header and MethodTable*
                    for (ulong b = 0; b < size; b++) holderData[b] = data[b];
                }
                *cell = *(long*)&holder;
            }
        }
    }
}
