using System;
using System.Runtime.CompilerServices;
using GuestOS.Kernel.Console;

namespace GuestOS.Hal
{
    // printk for a kernel without string formatting: a line is written in pieces.
    // None of these is ever inlined: there are about 500 narration call sites, and a call is
    // 12 bytes where the inlined loop was 60-120 (this alone took 27 KB off the x86_64 image
    // and 38 KB off the aarch64 one).
    public static unsafe class Log
    {
        public static bool Quiet;

        // String objects (the boot protocol's name, the heap self-test); the kernel's own text
        // is u8 literals, written by the overload below.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Write(string text)
        {
            for (int i = 0; i < text.Length; i++) Write(text[i]);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Write(ReadOnlySpan<byte> text)
        {
            for (int i = 0; i < text.Length; i++) Write((char)text[i]);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Write(char c)
        {
            if (c == '\n') ConsoleOutput.Put('\r');
            ConsoleOutput.Put(c);
        }

        public static void Line() => Write('\n');

        public static void Hex(ulong value) => Hex(value, 0);

        // "0x" then at least `digits` hex digits (all of them when digits is 0).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Hex(ulong value, int digits)
        {
            Write('0');
            Write('x');
            int significant = 1;
            for (ulong v = value >> 4; v != 0; v >>= 4) significant++;
            int count = significant > digits ? significant : digits;
            for (int i = count - 1; i >= 0; i--)
            {
                int nibble = i >= 16 ? 0 : (int)((value >> (i * 4)) & 0xF);
                Write((char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Dec(ulong value)
        {
            char* digits = stackalloc char[20];
            int n = 0;
            do { digits[n++] = (char)('0' + (int)(value % 10)); value /= 10; } while (value != 0);
            while (n > 0) Write(digits[--n]);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void DecSigned(long value)
        {
            if (value < 0) { Write('-'); Dec((ulong)(-(value + 1)) + 1); }
            else Dec((ulong)value);
        }
    }
}
