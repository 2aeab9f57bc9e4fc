using GuestOS.Kernel;

namespace System
{
    // Checked conversions the JIT calls as helpers (ilc's JitHelper: Dbl2IntOvf and friends).
    // The kernel does no floating point of its own, but the helpers must exist and be right.
    public static class Math
    {
        private static void Overflow() => Panic.Halt("arithmetic overflow in a checked conversion"u8);

        public static int ConvertToInt32Checked(double value)
        {
            if (!(value > -2147483649.0 && value < 2147483648.0)) Overflow();
            return (int)value;
        }

        public static uint ConvertToUInt32Checked(double value)
        {
            if (!(value > -1.0 && value < 4294967296.0)) Overflow();
            return (uint)value;
        }

        public static long ConvertToInt64Checked(double value)
        {
            if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0)) Overflow();
            return (long)value;
        }

        public static ulong ConvertToUInt64Checked(double value)
        {
            if (!(value > -1.0 && value < 18446744073709551616.0)) Overflow();
            return ConvertToUInt64(value);
        }

        public static ulong ConvertToUInt64(double value)
        {
            const double TwoTo63 = 9223372036854775808.0;
            if (value < TwoTo63) return (ulong)(long)value;
            return (ulong)(long)(value - TwoTo63) + 0x8000000000000000UL;
        }

        public static long MultiplyChecked(long a, long b)
        {
            long r = a * b;
            if (a != 0 && (r / a != b || (a == -1 && b == unchecked((long)0x8000000000000000UL)))) Overflow();
            return r;
        }

        public static ulong MultiplyChecked(ulong a, ulong b)
        {
            ulong r = a * b;
            if (a != 0 && r / a != b) Overflow();
            return r;
        }
    }
}
