// Target "memory-table": SET_MEM_TABLE validation and mapping (GuestMemory.Map, MemoryRegion)
// on fds the harness owns, then guest-physical and user address translation of fuzz-chosen
// ranges, each checked against a model written from vhost-user.rst and touched (first and last
// byte) so that a wrong host address faults.
//
// Input: [flags: bit 0 requireSealed][u16 fd choices, 2 bits per region]
//        [SET_MEM_TABLE payload: u32 count, u32 padding, count x 32-byte region]
//        then any number of lookups [u64 address][u32 length].
// The fds: a sealed 1 MiB memfd, a sealed 64 KiB memfd, an unsealed 1 MiB memfd, an eventfd.
// Documented bad-input error: VhostUserRequestRefusedException (the table is refused).

using System;
using System.Buffers.Binary;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Protocol;

namespace VhostUserRng.Fuzz;

public sealed unsafe class MemoryTableTarget : IFuzzTarget
{
    public string Name => "memory-table";

    private const int LookupSize = 12;
    private static readonly int[] Fds = { GuestRamFd.Create(1 << 20), GuestRamFd.Create(1 << 16), GuestRamFd.Create(1 << 20, sealed_: false), EventFd.Create() };

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3 + VhostUserMemory.HeaderSize) return;
        bool requireSealed = (input[0] & 1) != 0;
        ushort fdChoices = BinaryPrimitives.ReadUInt16LittleEndian(input[1..]);
        input = input[3..];
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(input);
        int tableLength = count <= VhostUserMemory.MaxRegions
            ? Math.Min(input.Length, VhostUserMemory.HeaderSize + (int)count * VhostUserMemoryRegion.Size)
            : input.Length;
        var lookups = input[tableLength..];

        GuestMemory memory;
        try
        {
            var table = VhostUserMemory.Read(input[..tableLength]);
            var fds = new FdList();   // not CloseAll()ed: the harness keeps its fds
            for (int i = 0; i < table.Length; i++) fds.Add(Fds[(fdChoices >> (2 * i)) & 3]);
            memory = GuestMemory.Map(table, fds, requireSealed, _ => { });
        }
        catch (VhostUserRequestRefusedException)
        {
            return;
        }
        using (memory)
        {
            for (; lookups.Length >= LookupSize; lookups = lookups[LookupSize..])
                Lookup(memory, BinaryPrimitives.ReadUInt64LittleEndian(lookups), BinaryPrimitives.ReadUInt32LittleEndian(lookups[8..]));
        }
    }

    private static void Lookup(GuestMemory memory, ulong address, uint length)
    {
        // Guest physical: the region containing the address, and the run inside it.
        byte* host = memory.TranslateGuest(address, length, out ulong run);
        var region = GuestRegionOf(memory, address);
        byte* expected = region is null ? null : region.Host + (address - region.GuestPhysAddr);
        ulong expectedRun = region is null ? 0 : Math.Min(length, region.Size - (address - region.GuestPhysAddr));
        if (host != expected || run != expectedRun)
            throw new InvariantViolatedException($"TranslateGuest(0x{address:x}, {length}) = 0x{(ulong)host:x} run {run}, expected 0x{(ulong)expected:x} run {expectedRun}");
        Touch(host, run);

        bool contained = memory.ContainsGuestRange(address, length);
        if (contained != ModelContainsGuestRange(memory, address, length))
            throw new InvariantViolatedException($"ContainsGuestRange(0x{address:x}, {length}) = {contained}, the model says otherwise");
        var bytes = new byte[Math.Min(length, 4096u)];
        if (memory.TryRead(address, bytes) != ModelContainsGuestRange(memory, address, (ulong)bytes.Length))
            throw new InvariantViolatedException($"TryRead(0x{address:x}, {bytes.Length}) disagrees with the model");

        // User addresses: the whole range inside one region.
        byte* user = memory.TranslateUser(address, length);
        byte* expectedUser = null;
        if (length > 0)
            foreach (var r in memory.Regions)
                if (address >= r.UserspaceAddr && address - r.UserspaceAddr <= r.Size - 1 && length - 1 <= r.Size - 1 - (address - r.UserspaceAddr))
                {
                    expectedUser = r.Host + (address - r.UserspaceAddr);
                    break;
                }
        if (user != expectedUser)
            throw new InvariantViolatedException($"TranslateUser(0x{address:x}, {length}) = 0x{(ulong)user:x}, expected 0x{(ulong)expectedUser:x}");
        if (user != null) Touch(user, length);
    }

    private static MemoryRegion? GuestRegionOf(GuestMemory memory, ulong gpa)
    {
        foreach (var r in memory.Regions)
            if (gpa >= r.GuestPhysAddr && gpa - r.GuestPhysAddr <= r.Size - 1) return r;
        return null;
    }

    /// <summary>Every byte of [gpa, gpa+length) is in some region (regions may be adjacent), no wrap.</summary>
    private static bool ModelContainsGuestRange(GuestMemory memory, ulong gpa, ulong length)
    {
        if (length == 0) return true;
        if (gpa > ulong.MaxValue - (length - 1)) return false;
        ulong last = gpa + (length - 1);
        while (true)
        {
            var r = GuestRegionOf(memory, gpa);
            if (r is null) return false;
            if (r.GuestLast >= last) return true;
            gpa = r.GuestLast + 1;
        }
    }

    /// <summary>Reads the first and last byte: a wrong translation faults here.</summary>
    private static void Touch(byte* host, ulong length)
    {
        if (host == null || length == 0) return;
        System.Threading.Volatile.Read(ref *host);
        System.Threading.Volatile.Read(ref *(host + (length - 1)));
    }

    // --- Seeds ---

    public (string Name, byte[] Bytes)[] Seeds() => new[]
    {
        ("one-region", Input(0b00, new[] { new VhostUserMemoryRegion(0, 0x10000, 0x7f00_0000_0000, 0) },
            (0x0, 16), (0xfff0, 16), (0xfff0, 32), (0x7f00_0000_0100, 64))),
        // x86's layout: RAM below the hole at 0xa0000 and above 0xc0000, one memfd.
        ("two-regions-hole", Input(0b0000, new[]
            {
                new VhostUserMemoryRegion(0, 0xa0000, 0x7f00_0000_0000, 0),
                new VhostUserMemoryRegion(0xc0000, 0x40000, 0x7f00_000c_0000, 0xc0000),
            },
            (0x9fff0, 32), (0xc0000, 4096), (0xffff0, 16), (0x7f00_000c_0000, 4096))),
        // Adjacent in guest physical memory, different fds: a buffer crosses from one to the other.
        ("adjacent-regions", Input(0b0100, new[]
            {
                new VhostUserMemoryRegion(0, 0x8000, 0x7f00_0000_0000, 0),
                new VhostUserMemoryRegion(0x8000, 0x8000, 0x7f00_1000_0000, 0x8000),
            },
            (0x7ff0, 32), (0x0, 0x10000), (0x7f00_1000_0000, 0x8000))),
    };

    private static byte[] Input(ushort fdChoices, VhostUserMemoryRegion[] table, params (ulong Address, uint Length)[] lookups)
    {
        var payload = VhostUserMemory.Encode(table);
        var bytes = new byte[3 + payload.Length + LookupSize * lookups.Length];
        bytes[0] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(1), fdChoices);
        payload.CopyTo(bytes, 3);
        for (int i = 0; i < lookups.Length; i++)
        {
            var at = bytes.AsSpan(3 + payload.Length + LookupSize * i);
            BinaryPrimitives.WriteUInt64LittleEndian(at, lookups[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(at[8..], lookups[i].Length);
        }
        return bytes;
    }
}
