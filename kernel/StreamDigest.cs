using GuestOS.Hal;

namespace GuestOS.Kernel
{
    // FNV-1a (64-bit): the kernel's one non-cryptographic hash, for the entropy check's blocks
    // and for the stream digest below.
    internal static class Fnv1a
    {
        internal const ulong OffsetBasis = 14695981039346656037UL;
        private const ulong Prime = 1099511628211UL;

        internal static unsafe ulong Add(ulong state, byte* data, uint length)
        {
            for (uint i = 0; i < length; i++) { state ^= data[i]; state *= Prime; }
            return state;
        }
    }

    // FNV-1a over every byte a device handed out, in the order the driver handed them out. The
    // host feeds the device a stream it can regenerate and checks the digest of the same prefix
    // (tests/Kernel.Tests/SeededEntropyFifo.cs): a buffer lost, completed twice, reordered or
    // written short changes it. Not a defence against an adversary, a witness.
    internal struct StreamDigest
    {
        private ulong hashed;      // the hash XOR OffsetBasis, so that a zeroed digest is empty
        private ulong bytes;

        internal unsafe void Add(byte* data, uint length)
        {
            hashed = Fnv1a.Add(hashed ^ Fnv1a.OffsetBasis, data, length) ^ Fnv1a.OffsetBasis;
            bytes += length;
        }

        // "entropy digest: virtio_rng.I N bytes fnv1a64 0x..." (always printed, also when quiet).
        internal void Print(int device)
        {
            Log.Write("entropy digest: virtio_rng."u8); Log.Dec((ulong)device); Log.Write(" "u8);
            Log.Dec(bytes); Log.Write(" bytes fnv1a64 "u8); Log.Hex(hashed ^ Fnv1a.OffsetBasis, 16);
            Log.Line();
        }
    }
}
