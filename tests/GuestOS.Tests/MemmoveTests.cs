using System;
using GuestOS.Drivers;
using Xunit;

namespace GuestOS.Tests
{
    // drivers/Memmove.cs, the copy every byte of entropy goes through (and the kernel corelib's
    // Buffer.Memmove): against Array.Copy, which is memmove, on every length from 0 to 130 (no
    // block, one block, blocks plus every 8-byte and byte tail), at every alignment of source
    // and destination, and overlapping in both directions at every distance up to 140. The
    // bytes around the destination must be untouched.
    public sealed unsafe class MemmoveTests
    {
        private const int MaxLength = 130, Guard = 16;

        // Source and destination apart in one buffer, the destination below the source (the
        // forward copy) and above it (the backward one).
        [Fact]
        public void Copies_every_length_at_every_alignment()
        {
            const int Region = MaxLength + 2 * Guard;
            for (int n = 0; n <= MaxLength; n++)
                for (int so = 0; so < 8; so++)
                    for (int dOff = 0; dOff < 8; dOff++)
                        foreach (bool up in new[] { false, true })
                        {
                            var buffer = Pattern(2 * Region, seed: n);
                            var expected = (byte[])buffer.Clone();
                            int from = (up ? 0 : Region) + Guard + so, to = (up ? Region : 0) + Guard + dOff;
                            Array.Copy(expected, from, expected, to, n);
                            fixed (byte* b = buffer) Mem.memmove(b + to, b + from, (nuint)n);
                            AssertSame(expected, buffer, $"length {n}, source offset {so}, destination offset {dOff}, destination {(up ? "above" : "below")} the source");
                        }
        }

        // dst below src copies forward, dst above src backward; either the wrong way round
        // overwrites source bytes before they are read.
        [Fact]
        public void Overlapping_copies_are_memmove_in_both_directions()
        {
            const int Distance = 140;
            for (int n = 0; n <= MaxLength; n++)
                for (int distance = 1; distance <= Distance; distance++)
                    for (int align = 0; align < 8; align += 3)
                        foreach (bool up in new[] { false, true })
                        {
                            var buffer = Pattern(MaxLength + Distance + 2 * Guard, seed: n);
                            var expected = (byte[])buffer.Clone();
                            int low = Guard + align, from = up ? low : low + distance, to = up ? low + distance : low;
                            Array.Copy(expected, from, expected, to, n);
                            fixed (byte* b = buffer) Mem.memmove(b + to, b + from, (nuint)n);
                            AssertSame(expected, buffer, $"length {n}, destination {(up ? "above" : "below")} the source by {distance}, alignment {align}");
                        }
        }

        [Fact]
        public void Copies_a_large_buffer_onto_itself_shifted_by_one()
        {
            var buffer = Pattern(1 << 16, seed: 3);
            var expected = (byte[])buffer.Clone();
            Array.Copy(expected, 0, expected, 1, buffer.Length - 1);
            fixed (byte* b = buffer) Mem.memmove(b + 1, b, (nuint)(buffer.Length - 1));
            AssertSame(expected, buffer, "64 KiB, one byte up");
        }

        private static byte[] Pattern(int length, int seed)
        {
            var bytes = new byte[length];
            new Random(seed).NextBytes(bytes);
            return bytes;
        }

        private static void AssertSame(byte[] expected, byte[] actual, string what)
        {
            for (int i = 0; i < expected.Length; i++)
                if (expected[i] != actual[i])
                    Assert.Fail($"{what}: byte {i} is 0x{actual[i]:x2}, expected 0x{expected[i]:x2}");
        }
    }
}
