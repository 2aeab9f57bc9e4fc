using System.Runtime;
using System.Runtime.CompilerServices;

namespace GuestOS.Kernel
{
    // Linker-script symbols (linker.ld), read through boot/<arch>/symbols.S.
    internal static class Symbols
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "sym_image_start")] private static extern ulong ImageStartAddress();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "sym_image_end")] private static extern ulong ImageEndAddress();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "sym_modules_start")] private static extern ulong ModulesStartAddress();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "sym_modules_end")] private static extern ulong ModulesEndAddress();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "sym_isr_stubs")] private static extern ulong IsrStubsAddress();

        internal static ulong ImageStart => ImageStartAddress();
        internal static ulong ImageEnd => ImageEndAddress();       // end of .bss
        internal static ulong ModulesStart => ModulesStartAddress(); // ilc's module header pointers
        internal static ulong ModulesEnd => ModulesEndAddress();
        internal static ulong IsrStubs => IsrStubsAddress();        // exception vectors (arch-specific)
    }
}
