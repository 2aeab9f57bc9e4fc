using System;
using GuestOS.Hal;

namespace GuestOS.Kernel
{
    // The kernel command line (QEMU -append): space-separated words, `name` or `name=value`.
    // Multiboot and PVH pass it directly; arm64 reads /chosen/bootargs from the device tree.
    public static unsafe class CommandLine
    {
        private const int MaxLength = 1024;
        private static byte* text;
        private static int length;
        private static fixed_buffer copy;

        private struct fixed_buffer { public fixed byte Bytes[MaxLength]; }

        // Copy it first thing: boot loaders leave it in memory the kernel is about to reuse
        // (QEMU's Multiboot loader puts it right after our .bss, where the heap starts).
        internal static void Save(byte* commandLine)
        {
            length = 0;
            fixed (byte* bytes = copy.Bytes)
            {
                text = bytes;
                if (commandLine == null) return;
                while (length < MaxLength - 1 && commandLine[length] != 0)
                {
                    bytes[length] = commandLine[length];
                    length++;
                }
            }
        }

        internal static void Print()
        {
            for (int i = 0; i < length; i++) Log.Write((char)text[i]);
        }

        public static bool Has(ReadOnlySpan<byte> name) => Find(name, out _, out _);

        // True when `name=value` is present with exactly this value.
        public static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            if (!Find(name, out int at, out int len) || len != value.Length) return false;
            for (int i = 0; i < len; i++) if (text[at + i] != value[i]) return false;
            return true;
        }

        // A decimal number with an optional K, M or G suffix (powers of 1024).
        public static ulong Number(ReadOnlySpan<byte> name, ulong fallback)
        {
            if (!Find(name, out int at, out int len) || len == 0) return fallback;
            ulong value = 0;
            for (int i = 0; i < len; i++)
            {
                byte c = text[at + i];
                if (c >= '0' && c <= '9') { value = value * 10 + (ulong)(c - '0'); continue; }
                if (i != len - 1) return fallback;
                if (c == 'K' || c == 'k') value <<= 10;
                else if (c == 'M' || c == 'm') value <<= 20;
                else if (c == 'G' || c == 'g') value <<= 30;
                else return fallback;
            }
            return value;
        }

        // Finds word `name` or `name=...`; returns where its value starts and how long it is.
        private static bool Find(ReadOnlySpan<byte> name, out int valueAt, out int valueLength)
        {
            valueAt = 0; valueLength = 0;
            int i = 0;
            while (i < length)
            {
                while (i < length && text[i] == ' ') i++;
                int start = i;
                while (i < length && text[i] != ' ') i++;
                int end = i;
                int n = 0;
                while (n < name.Length && start + n < end && text[start + n] == name[n]) n++;
                if (n != name.Length) continue;
                if (start + n == end) { valueAt = end; return true; }
                if (text[start + n] == '=') { valueAt = start + n + 1; valueLength = end - valueAt; return true; }
            }
            return false;
        }
    }
}
