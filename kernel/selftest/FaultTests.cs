using GuestOS.Hal;
using GuestOS.Kernel.Arch;

namespace GuestOS.Kernel
{
    internal static unsafe class FaultTests
    {
        private sealed class Node { public int Value; }

        // Values the compiler cannot see through, so it must emit the faulting instruction.
        private static Node nothing;
        private static int zero;
        private static ulong oddAddress = 1;

        internal static void NullDereference()
        {
            Log.Write("test fault-null: writing a field of a null object"u8); Log.Line();
            nothing.Value = 42;                        // page 0 is unmapped: #PF / data abort
        }

        internal static void DivideByZero()
        {
            Log.Write("test fault-divide: 1 / 0"u8); Log.Line();
            int result = 1 / zero;                     // x86 #DE (arm64 would call a throw helper)
            Log.DecSigned(result);
        }

        internal static void UndefinedInstruction()
        {
            Log.Write("test fault-undefined: executing an undefined instruction"u8); Log.Line();
            Machine.UndefinedInstruction();
        }

        internal static void UnalignedAccess()
        {
            Log.Write("test fault-unaligned: an unaligned load with alignment checking on"u8); Log.Line();
            Machine.UnalignedLoadWithAlignmentCheck(Symbols.ImageStart + oddAddress);
        }
    }
}
