using GuestOS.Hal;

namespace GuestOS.Kernel
{
    // Basic sanity checks on bytes that claim to be random. They catch a broken path (a device
    // or driver returning zeros, a stale buffer handed out twice, a constant pattern), not
    // weak randomness: not constant, no repeated 64-byte block, a byte histogram within loose
    // bounds of uniform (every value between 1/2 and 3/2 of its expected count from 64 KiB on).
    internal sealed unsafe class EntropyCheck
    {
        private const int BlockSize = 64;
        private readonly ulong[] histogram = new ulong[256];
        private readonly ulong[] blockHashes;        // open addressing; 0 marks an empty slot
        private ulong bytes;
        private ulong repeatedBlocks;

        internal EntropyCheck(ulong expectedBytes)
        {
            ulong slots = 1024;
            while (slots < expectedBytes / BlockSize * 2) slots <<= 1;
            blockHashes = new ulong[(int)slots];
        }

        internal ulong Bytes => bytes;
        internal ulong RepeatedBlocks => repeatedBlocks;

        // `data` holds whole 64-byte blocks except perhaps at the very end.
        internal void Add(byte* data, uint length)
        {
            for (uint i = 0; i < length; i++) histogram[data[i]]++;
            for (uint at = 0; at + BlockSize <= length; at += BlockSize)
                if (!Remember(Hash(data + at))) repeatedBlocks++;
            bytes += length;
        }

        // FNV-1a over a block; never 0 (0 marks an empty slot).
        private static ulong Hash(byte* block)
        {
            ulong h = Fnv1a.Add(Fnv1a.OffsetBasis, block, BlockSize);
            return h == 0 ? 1 : h;
        }

        private bool Remember(ulong hash)
        {
            ulong mask = (ulong)blockHashes.Length - 1;
            for (ulong slot = hash & mask; ; slot = (slot + 1) & mask)
            {
                if (blockHashes[slot] == hash) return false;
                if (blockHashes[slot] == 0) { blockHashes[slot] = hash; return true; }
            }
        }

        // Prints the statistics; true if the bytes look like entropy.
        internal bool Report()
        {
            ulong min = ulong.MaxValue, max = 0, distinct = 0;
            for (int v = 0; v < 256; v++)
            {
                if (histogram[v] < min) min = histogram[v];
                if (histogram[v] > max) max = histogram[v];
                if (histogram[v] != 0) distinct++;
            }
            ulong expected = bytes / 256;
            Log.Write("entropy check: "u8); Log.Dec(bytes); Log.Write(" bytes, "u8); Log.Dec(distinct);
            Log.Write(" distinct values, histogram min "u8); Log.Dec(min); Log.Write(" max "u8); Log.Dec(max);
            Log.Write(" (expected "u8); Log.Dec(expected); Log.Write("), repeated 64-byte blocks "u8);
            Log.Dec(repeatedBlocks); Log.Line();

            bool ok = distinct > 1 && repeatedBlocks == 0;
            if (bytes >= 65536) ok = ok && min >= expected / 2 && max <= expected * 3 / 2;
            return ok;
        }
    }
}
