// Target "split-ring": the device side of a split virtqueue (SplitRing, DescriptorChain) walking
// descriptors, chains and indirect tables the guest wrote, served by RngDevice with a
// deterministic entropy source, in 64 KiB of guest RAM the harness owns: two adjacent regions
// of one memfd (gpa 0x0-0x7fff and 0x8000-0xffff), mapped separately, so a buffer crossing
// 0x8000 is not contiguous on the host.
//
// Input: [log2 queue size (mod 9)][features: bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 rate limit,
//         bit 3 the guest rewrites each table descriptor right after the device has read it]
//        [u16 next avail][u16 used->idx][u16 entropy the source gives before running dry]
//        [avail ring: flags, idx, ring[num], used_event] -> gpa 0x1000
//        [descriptor table: num x 16 bytes]              -> gpa 0x0000
//        [the rest: indirect tables, buffers]            -> gpa 0x3000 onwards
// The used ring is at gpa 0x2000. Documented bad-input error: VirtqueueException (ring broken).
// The rewrite (SplitRing.AfterDescriptorRead) points the descriptor outside RAM and at itself:
// a device that read a descriptor twice would act on the rewritten one. Checked after each run: every byte the device changed is in the used ring or was handed to the
// entropy source, every byte it handed out lies in guest RAM, and the used elements account for
// exactly the bytes filled.

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;

namespace VhostUserRng.Fuzz;

public sealed unsafe class SplitRingTarget : IFuzzTarget
{
    public string Name => "split-ring";

    private const int RamSize = 0x10000, HeaderSize = 8;
    private const ulong DescGpa = 0x0, AvailGpa = 0x1000, UsedGpa = 0x2000, DataGpa = 0x3000;
    private const ulong UserBase = 0x7f00_0000_0000;

    private static readonly GuestMemory Memory = MapRam();
    private static readonly byte[] Before = new byte[RamSize];
    private static readonly byte[] After = new byte[RamSize];

    private static GuestMemory MapRam()
    {
        int fd = GuestRamFd.Create(RamSize);
        var fds = new FdList();
        fds.Add(fd);
        fds.Add(fd);
        return GuestMemory.Map(new[]
        {
            new VhostUserMemoryRegion(0, RamSize / 2, UserBase, 0),
            new VhostUserMemoryRegion(RamSize / 2, RamSize / 2, UserBase + 0x100_0000, RamSize / 2),
        }, fds, requireSealed: true, _ => { });
    }

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < HeaderSize) return;
        uint num = 1u << (input[0] % 9);
        bool eventIdx = (input[1] & 1) != 0, indirect = (input[1] & 2) != 0, rateLimited = (input[1] & 4) != 0, rewrite = (input[1] & 8) != 0;
        ushort nextAvail = BinaryPrimitives.ReadUInt16LittleEndian(input[2..]);
        ushort usedIdx = BinaryPrimitives.ReadUInt16LittleEndian(input[4..]);
        var source = new CountingSource(BinaryPrimitives.ReadUInt16LittleEndian(input[6..]));
        input = input[HeaderSize..];

        // The guest's writes.
        Clear();
        input = WriteGuest(AvailGpa, input, (int)SplitRing.AvailRingSize(num));
        input = WriteGuest(DescGpa, input, (int)SplitRing.DescTableSize(num));
        WriteGuest(DataGpa, input, RamSize - (int)DataGpa);
        BinaryPrimitives.WriteUInt16LittleEndian(HostSpan(UsedGpa + 2, 2), usedIdx);
        Snapshot(Before);

        var ring = new SplitRing(Memory, Host(DescGpa), Host(AvailGpa), Host(UsedGpa), num, nextAvail, usedIdx, eventIdx, indirect)
        {
            AfterDescriptorRead = rewrite ? RewriteDescriptor : null,
        };
        long now = 0;
        var bucket = rateLimited ? new TokenBucket(4096, 1_000_000, 0) : null;
        var device = new RngDevice(source, bucket, () => now += 100_000);
        var chain = new DescriptorChain();
        try
        {
            for (int pass = 0; pass < 4; pass++)
                if (device.Serve(ring, Memory, chain).Completed == 0) break;
        }
        catch (VirtqueueException)
        {
            // The ring is broken; what was completed before stays published.
        }
        Check(ring, num, usedIdx, source, descriptorsRewritten: rewrite);
    }

    /// <summary>The racing guest: the table descriptor just read now names 4 GiB at the top of
    /// the address space, device-writable, chained to itself.</summary>
    private static void RewriteDescriptor(SplitRing.DescriptorRead read)
    {
        if (read.IndirectTableOf >= 0) return;
        var d = HostSpan(DescGpa + 16UL * read.Index, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, 0xffff_ffff_0000_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], uint.MaxValue);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], VirtqDesc.VIRTQ_DESC_F_NEXT | VirtqDesc.VIRTQ_DESC_F_WRITE);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], read.Index);
    }

    private static void Check(SplitRing ring, uint num, ushort usedIdxBefore, CountingSource source, bool descriptorsRewritten)
    {
        ushort usedIdx = BinaryPrimitives.ReadUInt16LittleEndian(HostSpan(UsedGpa + 2, 2));
        if (usedIdx != ring.NextUsed)
            throw new InvariantViolatedException($"used->idx is {usedIdx} but the ring's next used is {ring.NextUsed}");

        Snapshot(After);
        ulong usedLast = UsedGpa + SplitRing.UsedRingSize(num) - 1;
        ulong guestWrote = descriptorsRewritten ? SplitRing.DescTableSize(num) : 0;   // the table, from DescGpa = 0
        for (int gpa = (int)guestWrote; gpa < RamSize; gpa++)
            if (Before[gpa] != After[gpa] && !((ulong)gpa >= UsedGpa && (ulong)gpa <= usedLast) && !source.Filled(Host((ulong)gpa), Host((ulong)gpa)))
                throw new InvariantViolatedException($"guest byte 0x{gpa:x} changed, but it is neither in the used ring nor in a buffer the device filled");

        // A guest may point a buffer at its own rings: entropy then overwrites used elements, or
        // avail->idx (more completions than entries). Only used->idx, published after every
        // fill, can still be checked.
        if (source.Filled(Host(UsedGpa), Host(usedLast))
            || source.Filled(Host(AvailGpa), Host(AvailGpa + SplitRing.AvailRingSize(num) - 1))) return;
        ulong reported = 0;
        for (ushort i = usedIdxBefore; i != usedIdx; i++)
        {
            var elem = HostSpan(UsedGpa + 4 + 8 * (ulong)(i & (num - 1)), 8);
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(elem), len = BinaryPrimitives.ReadUInt32LittleEndian(elem[4..]);
            if (id >= num || len == 0 || len > RngDevice.MaxBytesPerChain)
                throw new InvariantViolatedException($"used element {i}: id {id} len {len} (queue size {num})");
            reported += len;
        }
        if (reported != source.Given)
            throw new InvariantViolatedException($"used elements report {reported} bytes, the source filled {source.Given}");
    }

    private static byte* Host(ulong gpa) => Memory.TranslateGuest(gpa, 1, out _);
    private static Span<byte> HostSpan(ulong gpa, int length) => new(Host(gpa), length);

    private static void Clear()
    {
        foreach (var r in Memory.Regions) new Span<byte>(r.Host, (int)r.Size).Clear();
    }

    private static void Snapshot(byte[] into)
    {
        foreach (var r in Memory.Regions) new ReadOnlySpan<byte>(r.Host, (int)r.Size).CopyTo(into.AsSpan((int)r.GuestPhysAddr));
    }

    /// <summary>Copies the next <paramref name="length"/> input bytes (fewer if the input is
    /// shorter) to guest RAM at <paramref name="gpa"/>; returns the rest of the input.</summary>
    private static ReadOnlySpan<byte> WriteGuest(ulong gpa, ReadOnlySpan<byte> input, int length)
    {
        var bytes = input[..Math.Min(length, input.Length)];
        for (var rest = bytes; !rest.IsEmpty;)
        {
            byte* host = Memory.TranslateGuest(gpa, (ulong)rest.Length, out ulong run);
            rest[..(int)run].CopyTo(new Span<byte>(host, (int)run));
            rest = rest[(int)run..];
            gpa += run;
        }
        return input[bytes.Length..];
    }

    /// <summary>Deterministic entropy: an incrementing byte, <paramref name="budget"/> bytes in all,
    /// then dry. Refuses (as a finding) any destination outside the guest RAM the harness mapped.</summary>
    private sealed class CountingSource : IEntropySource
    {
        private readonly List<(ulong Start, ulong End)> _filled = new();
        private ulong _budget;
        public ulong Given { get; private set; }

        public CountingSource(ulong budget) => _budget = budget;
        public string Name => "fuzz counter";

        public int Fill(Span<byte> destination)
        {
            int n = (int)Math.Min((ulong)destination.Length, _budget);
            fixed (byte* p = destination)
            {
                bool inside = false;
                foreach (var r in Memory.Regions)
                    inside |= p >= r.Host && (ulong)(p - r.Host) + (ulong)destination.Length <= r.Size;
                if (!inside)
                    throw new InvariantViolatedException($"the device asked to fill {destination.Length} bytes at host 0x{(ulong)p:x}, outside guest RAM");
                _filled.Add(((ulong)p, (ulong)p + (ulong)n));
            }
            for (int i = 0; i < n; i++) destination[i] = (byte)(Given + (ulong)i + 1);
            _budget -= (ulong)n;
            Given += (ulong)n;
            return n;
        }

        /// <summary>True if any byte of [first, last] was handed out to be filled.</summary>
        public bool Filled(byte* first, byte* last)
        {
            foreach (var (start, end) in _filled)
                if ((ulong)first < end && (ulong)last >= start) return true;
            return false;
        }

        public void Dispose() { }
    }

    // --- Seeds: what a guest's driver writes, for a queue of 4 ---

    public (string Name, byte[] Bytes)[] Seeds()
    {
        const int Next = VirtqDesc.VIRTQ_DESC_F_NEXT, Write = VirtqDesc.VIRTQ_DESC_F_WRITE, Indirect = VirtqDesc.VIRTQ_DESC_F_INDIRECT;
        var indirectTable = new byte[32];
        Desc(indirectTable, 0, 0x4000, 32, Write | Next, 1);
        Desc(indirectTable, 1, 0x5000, 32, Write, 0);
        return new[]
        {
            ("one-buffer", Input(0, new ushort[] { 0 }, new[] { (0x3000UL, 64u, Write, (ushort)0) }, default)),
            ("chain-of-two", Input(0, new ushort[] { 0 }, new[] { (0x3000UL, 16u, Write | Next, (ushort)1), (0x3100UL, 48u, Write, (ushort)0) }, default)),
            ("indirect", Input(2, new ushort[] { 0 }, new[] { (DataGpa, 32u, Indirect, (ushort)0) }, indirectTable)),
            ("crosses-regions", Input(0, new ushort[] { 0 }, new[] { (0x7ff0UL, 32u, Write, (ushort)0) }, default)),
            ("event-idx-three-heads", Input(1, new ushort[] { 2, 0, 1 }, new[]
                { (0x3000UL, 8u, Write, (ushort)0), (0x3100UL, 8u, Write, (ushort)0), (0x3200UL, 8u, Write, (ushort)0) }, default)),
            ("guest-rewrites-descriptors", Input(8, new ushort[] { 0 }, new[] { (0x3000UL, 16u, Write | Next, (ushort)1), (0x3100UL, 48u, Write, (ushort)0) }, default)),
            ("rate-limited", Input(4, new ushort[] { 0, 1 }, new[] { (0x3000UL, 4096u, Write, (ushort)0), (0x4000UL, 4096u, Write, (ushort)0) }, default)),
        };
    }

    private static byte[] Input(byte features, ushort[] heads, (ulong Addr, uint Len, int Flags, ushort Next)[] descs, ReadOnlySpan<byte> data)
    {
        const int num = 4;
        var bytes = new List<byte> { 2, features, 0, 0, 0, 0, 0xff, 0xff };   // size 4, avail/used from 0, 65535 bytes of entropy
        var avail = new byte[SplitRing.AvailRingSize(num)];
        BinaryPrimitives.WriteUInt16LittleEndian(avail.AsSpan(2), (ushort)heads.Length);
        for (int i = 0; i < heads.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(avail.AsSpan(4 + 2 * i), heads[i]);
        bytes.AddRange(avail);
        var table = new byte[SplitRing.DescTableSize(num)];
        for (int i = 0; i < descs.Length; i++) Desc(table, i, descs[i].Addr, descs[i].Len, descs[i].Flags, descs[i].Next);
        bytes.AddRange(table);
        bytes.AddRange(data.ToArray());
        return bytes.ToArray();
    }

    private static void Desc(byte[] table, int i, ulong addr, uint len, int flags, ushort next)
    {
        var d = table.AsSpan(16 * i);
        BinaryPrimitives.WriteUInt64LittleEndian(d, addr);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], len);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }
}
