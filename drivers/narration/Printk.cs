using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Narration
{
    // One printk argument: a number or a piece of text. Built implicitly at the call site, so
    // Printk.Line("queue %u: size %u"u8, index, num) needs no boxing, no allocation and no
    // string: numbers travel as ulong (cast signed values), text as a u8 literal or span.
    public readonly ref struct Arg
    {
        internal const byte None = 0, Number = 1, Text = 2;
        internal readonly byte Kind;           // None for an argument not given
        internal readonly ulong Value;
        internal readonly ReadOnlySpan<byte> Chars;

        private Arg(byte kind, ulong value, ReadOnlySpan<byte> chars) { Kind = kind; Value = value; Chars = chars; }

        public static implicit operator Arg(ulong value) => new Arg(Number, value, default);
        public static implicit operator Arg(ReadOnlySpan<byte> text) => new Arg(Text, 0, text);
    }

    // printk for both worlds (kernel and hosted): a format and at most six arguments, written
    // through Log. Directives, a subset of the kernel's vsprintf:
    //   %u  unsigned decimal        %x  hex digits           %#x  hex with a 0x prefix
    //   %s  text                    %0Nx, %#0Nx  at least N hex digits (N = 1..9; the prefix
    //   %%  a percent sign                       is not counted, unlike vsprintf)
    // A directive without an argument, or an argument of the other kind, prints "?".
    public static class Printk
    {
        public static void Line(ReadOnlySpan<byte> format, Arg a0 = default, Arg a1 = default, Arg a2 = default,
                                Arg a3 = default, Arg a4 = default, Arg a5 = default)
        {
            Write(format, a0, a1, a2, a3, a4, a5);
            Log.Line();
        }

        public static void Write(ReadOnlySpan<byte> format, Arg a0 = default, Arg a1 = default, Arg a2 = default,
                                 Arg a3 = default, Arg a4 = default, Arg a5 = default)
        {
            int next = 0;
            for (int i = 0; i < format.Length; i++)
            {
                byte c = format[i];
                if (c != '%' || i + 1 == format.Length) { Log.Write((char)c); continue; }
                c = format[++i];
                if (c == '%') { Log.Write('%'); continue; }
                bool prefix = c == '#';
                if (prefix && i + 1 < format.Length) c = format[++i];
                int digits = 0;
                if (c == '0' && i + 2 < format.Length) { digits = format[i + 1] - '0'; i += 2; c = format[i]; }
                Emit(c, prefix, digits, Pick(next++, a0, a1, a2, a3, a4, a5));
            }
        }

        private static Arg Pick(int n, Arg a0, Arg a1, Arg a2, Arg a3, Arg a4, Arg a5)
        {
            if (n == 0) return a0;
            if (n == 1) return a1;
            if (n == 2) return a2;
            if (n == 3) return a3;
            if (n == 4) return a4;
            return n == 5 ? a5 : default;
        }

        private static void Emit(byte directive, bool prefix, int digits, Arg a)
        {
            if (directive == 's' && a.Kind == Arg.Text) Log.Write(a.Chars);
            else if (directive == 'u' && a.Kind == Arg.Number) Log.Dec(a.Value);
            else if (directive == 'x' && a.Kind == Arg.Number) Hex(a.Value, prefix, digits);
            else Log.Write('?');
        }

        private static void Hex(ulong value, bool prefix, int digits)
        {
            if (prefix) { Log.Hex(value, digits); return; }
            int significant = 1;
            for (ulong v = value >> 4; v != 0; v >>= 4) significant++;
            for (int i = (significant > digits ? significant : digits) - 1; i >= 0; i--)
            {
                int nibble = i >= 16 ? 0 : (int)((value >> (i * 4)) & 0xF);
                Log.Write((char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
        }
    }
}
