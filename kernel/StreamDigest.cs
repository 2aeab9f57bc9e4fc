using GuestOS.Hal;

namespace GuestOS.Kernel
{
    // FNV-1a (64-bit) over every byte a device handed out, in the order the driver handed them
    // out. The host feeds the device a stream it can regenerate and checks the digest of the
    // same prefix (tests/Kernel.Tests/SeededEntropyFifo.cs): a buffer lost, completed twice,
    // reordered or written short changes it. Not a defence against an adversary, a witness.
    internal struct StreamDigest
    {
        private const ulong OffsetBasis = 14695981039346656037UL, Prime = 1099511628211UL;
        private ulong state;
        private ulong bytes;

        internal unsafe void Add(byte* data, uint length)
        {
            if (bytes == 0) state = OffsetBasis;
            ulong h = state;
            for (uint i = 0; i < length; i++) { h ^= data[i]; h *= Prime; }
            state = h;
            bytes += length;
        }

        // "entropy digest: virtio_rng.I N bytes fnv1a64 0x..." (always printed, also when quiet).
        internal void Print(int device)
        {
            Log.Write("entropy digest: virtio_rng."u8); Log.Dec((ulong)device); Log.Write(" "u8);
            Log.Dec(bytes); Log.Write(" bytes fnv1a64 "u8); Log.Hex(bytes == 0 ? OffsetBasis : state, 16);
            Log.Line();
        }
    }
}
