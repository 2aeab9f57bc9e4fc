// Every guest-controlled value the notes list as hostile: each breaks only its own ring, with
// a log line naming the problem and a signal on the ring's err fd. The connection, the process
// and the other guest carry on.

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using VhostUser.Tests.Frontend;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class HostileGuestTests
{
    private const ushort W = VirtqDesc.VIRTQ_DESC_F_WRITE;
    private const ushort N = VirtqDesc.VIRTQ_DESC_F_NEXT;
    private const ushort I = VirtqDesc.VIRTQ_DESC_F_INDIRECT;

    private sealed record Case(Action<TestGuest> Provoke, string Expected);

    private static void Started(TestGuest g) => g.Start();

    private static void Post(TestGuest g, ushort head)
    {
        g.Driver.Publish(head);
        g.Kick();
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["descriptor outside guest memory"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x200000, 64, W); Post(g, 0); },
            "descriptor 0 (head 0): buffer 0x200000+64 is outside guest memory"),
        ["descriptor straddling the end of memory"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x100000 - 8, 64, W); Post(g, 0); },
            "buffer 0xffff8+64 is outside guest memory"),
        ["descriptor wrapping past 2^64"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0xFFFF_FFFF_FFFF_FFF0, 64, W); Post(g, 0); },
            "buffer 0xfffffffffffffff0+64 is outside guest memory"),
        ["chain loop"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x20000, 8, W | N, 1); g.Driver.WriteDesc(1, 0x21000, 8, W | N, 0); Post(g, 0); },
            "chain from head 0 is longer than the queue size 4 (a loop?)"),
        ["next index out of range"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x20000, 8, W | N, 9); Post(g, 0); },
            "descriptor 0 links to 9, outside the table of 4"),
        ["head index out of range"] = new(g => { Started(g); Post(g, 7); },
            "avail->ring[0] names head descriptor 7, outside the table of 4"),
        ["avail idx jumping more than the queue size"] = new(g => { Started(g); g.Driver.SetAvailIdx(5); g.Kick(); },
            "avail->idx jumped to 5 with next avail 0: 5 new entries in a queue of size 4"),
        ["device-readable descriptor"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x20000, 8, W | N, 1); g.Driver.WriteDesc(1, 0x21000, 8, 0); Post(g, 0); },
            "chain from head 0: descriptor 1 of the chain is device-readable"),
        ["chain without writable bytes"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x20000, 0, W); Post(g, 0); },
            "chain from head 0 has no writable bytes"),
        ["indirect with NEXT"] = new(g => { Started(g); g.Driver.WriteDescAt(0x8000, 0x20000, 8, W, 0); g.Driver.WriteDesc(0, 0x8000, 16, I | N, 1); Post(g, 0); },
            "descriptor 0 sets both INDIRECT and NEXT"),
        ["indirect table length not a multiple of 16"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x8000, 24, I); Post(g, 0); },
            "descriptor 0: indirect table length 24 is not a non-zero multiple of 16"),
        ["empty indirect table"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x8000, 0, I); Post(g, 0); },
            "descriptor 0: indirect table length 0 is not a non-zero multiple of 16"),
        ["indirect table outside guest memory"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0xFFFF0, 32, I); Post(g, 0); },
            "descriptor 0: indirect table 0xffff0+32 is outside guest memory"),
        ["over-long indirect table"] = new(g => { Started(g); g.Driver.WriteDesc(0, 0x20000, 16 * 40000, I); Post(g, 0); },
            "indirect table of 40000 entries exceeds 32768"),
        ["nested indirect table"] = new(g => { Started(g); g.Driver.WriteDescAt(0x8000, 0x9000, 16, I, 0); g.Driver.WriteDesc(0, 0x8000, 16, I); Post(g, 0); },
            "entry 0 is itself INDIRECT"),
        ["indirect table loop"] = new(g => { Started(g); g.Driver.WriteDescAt(0x8000, 0x20000, 8, W | N, 1); g.Driver.WriteDescAt(0x8010, 0x21000, 8, W | N, 0); g.Driver.WriteDesc(0, 0x8000, 32, I); Post(g, 0); },
            "indirect table of descriptor 0 (head 0) loops"),
        ["indirect entry next out of range"] = new(g => { Started(g); g.Driver.WriteDescAt(0x8000, 0x20000, 8, W | N, 5); g.Driver.WriteDesc(0, 0x8000, 32, I); Post(g, 0); },
            "entry 0 links to 5, outside the table of 2"),
        ["indirect descriptor without INDIRECT_DESC negotiated"] = new(g => { g.Start(VhostUserFeatures.Offered & ~(1UL << VhostUserFeatures.VIRTIO_RING_F_INDIRECT_DESC)); g.Driver.WriteDescAt(0x8000, 0x20000, 8, W, 0); g.Driver.WriteDesc(0, 0x8000, 16, I); Post(g, 0); },
            "descriptor 0 is INDIRECT but VIRTIO_RING_F_INDIRECT_DESC was not negotiated"),
        ["descriptor table outside guest memory"] = new(g => { g.StartupSequence(); DriverOkWithAddr(g, g.Driver.Addr() with { DescUserAddr = 0x7f00_0000_0000 }); },
            "descriptor table 0x7f0000000000 (64 bytes) is not inside one memory region"),
        ["used ring running off the end of memory"] = new(g => { g.StartupSequence(); DriverOkWithAddr(g, g.Driver.Addr() with { UsedUserAddr = GuestRam.QemuMappingBase + 0x100000 - 8 }); },
            "used ring 0x7f12340ffff8 (38 bytes) is not inside one memory region"),
        ["misaligned descriptor table"] = new(g => { g.StartupSequence(); DriverOkWithAddr(g, g.Driver.Addr() with { DescUserAddr = GuestRam.QemuMappingBase + 0x1008 }); },
            "descriptor table 0x7f1234001008 is not 16-byte aligned"),
        ["misaligned used ring"] = new(g => { g.StartupSequence(); DriverOkWithAddr(g, g.Driver.Addr() with { UsedUserAddr = GuestRam.QemuMappingBase + 0x3002 }); },
            "used ring 0x7f1234003002 is not 4-byte aligned"),
        ["misaligned available ring"] = new(g => { g.StartupSequence(); DriverOkWithAddr(g, g.Driver.Addr() with { AvailUserAddr = GuestRam.QemuMappingBase + 0x2001 }); },
            "available ring 0x7f1234002001 is not 2-byte aligned"),
    };

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Cases.Keys) data.Add(name);
        return data;
    }

    /// <summary>QEMU's DRIVER_OK sequence with ring addresses the guest got wrong.</summary>
    private static void DriverOkWithAddr(TestGuest g, VhostVringAddr addr)
    {
        Assert.Equal(1UL, g.DriverOkWithAddr(addr));   // reported, and the ring broken
        g.Kick();
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void AGuestError_BreaksOnlyThatRing(string name)
    {
        var c = Cases[name];
        using var two = new TwoGuests();
        using var hostile = new TestGuest(two.HostileSocket);

        c.Provoke(hostile);

        two.Backend.Log.AssertContains("vring 0 broken by the guest: ");
        two.Backend.Log.AssertContains(c.Expected);
        hostile.Frontend.Sync();                                   // the connection still answers
        Assert.True(Wait.Until(() => hostile.TakeErrs() > 0), "the err fd was not signalled");
        Assert.Equal((ushort)0, hostile.Driver.UsedIdx);          // nothing was completed
        two.AssertOthersUnharmed();
    }

    [Fact]
    public unsafe void DescriptorsRewrittenRightAfterTheDeviceReadsThem_AreReadOnce_SoNothingOutsideTheBuffersIsWritten()
    {
        // The backend's ring code on real guest RAM (a sealed memfd mapped through GuestMemory),
        // with the guest's rewrite injected at the worst moment: right after the device copied a
        // descriptor, before it checked or used it. The rewrite points the descriptor at 0x40000
        // and beyond, and its links at decoys that point there too; a device that read any
        // descriptor again would write there, or follow a decoy, or report a second read.
        using var ram = GuestRam.Create();
        var fds = new FdList();
        fds.Add(ram.Fd);   // not taken over: the mapping outlives the fd, which ram closes
        using var memory = GuestMemory.Map(ram.Regions, fds, requireSealed: true, _ => { });
        var driver = new GuestDriver(ram, num: 8);
        ram.Fill(0x40000, 0x10000, 0xAA);

        // The chain: descriptor 0 (100 bytes at 0x10000) -> descriptor 1, an indirect table at
        // 0x8000 of three entries (50, 60 and 70 bytes). Slots 2-7 and a table at 0x9000 are decoys.
        driver.WriteDesc(0, 0x10000, 100, W | N, next: 1);
        driver.WriteDesc(1, 0x8000, 48, I);
        driver.WriteDescAt(0x8000, 0x11000, 50, W | N, 1);
        driver.WriteDescAt(0x8010, 0x12000, 60, W | N, 2);
        driver.WriteDescAt(0x8020, 0x13000, 70, W, 0);
        for (int slot = 2; slot < 8; slot++) driver.WriteDesc(slot, 0x40000 + 0x100UL * (ulong)slot, 0x100, W);
        for (int entry = 0; entry < 3; entry++) driver.WriteDescAt(0x9000 + 16UL * (ulong)entry, 0x48000 + 0x100UL * (ulong)entry, 0x100, W, 0);
        driver.Publish(0);

        byte[] expected = ram.File.ToArray();   // what RAM must hold afterwards, but for the buffers and the used ring
        void Rewrite(ulong gpa, ulong addr, uint len, ushort flags, ushort next)
        {
            driver.WriteDescAt(gpa, addr, len, flags, next);
            ram.File.Slice((int)gpa, 16).CopyTo(expected.AsSpan((int)gpa));   // one region at offset 0: gpa = file offset
        }
        var reads = new List<SplitRing.DescriptorRead>();
        var ring = new SplitRing(memory,
            memory.TranslateUser(ram.UserAddrOf(driver.DescGpa), SplitRing.DescTableSize(8)),
            memory.TranslateUser(ram.UserAddrOf(driver.AvailGpa), SplitRing.AvailRingSize(8)),
            memory.TranslateUser(ram.UserAddrOf(driver.UsedGpa), SplitRing.UsedRingSize(8)),
            8, nextAvail: 0, nextUsed: 0, eventIdx: false, indirect: true)
        {
            AfterDescriptorRead = read =>
            {
                reads.Add(read);
                if (read.IndirectTableOf < 0 && read.Index == 1)
                    Rewrite(driver.DescGpa + 16, 0x9000, 48, I, 0);                                   // the decoy table
                else if (read.IndirectTableOf < 0)
                    Rewrite(driver.DescGpa + 16UL * read.Index, 0x40000, 0x1000, W | N, 2);          // a decoy slot
                else
                    Rewrite(0x8000 + 16UL * read.Index, 0x44000 + 0x100UL * read.Index, 0x1000, W | N, 0);
            },
        };

        var result = new RngDevice(new SequenceSource(), null, () => 0).Serve(ring, memory, new DescriptorChain());

        // Read once each, in chain order.
        Assert.Equal(new SplitRing.DescriptorRead[] { new(0, -1, 0), new(0, -1, 1), new(0, 1, 0), new(0, 1, 1), new(0, 1, 2) }, reads);
        Assert.Equal((1, 280UL), (result.Completed, result.Bytes));
        // The buffers got the source's bytes in chain order, the used ring one element, and
        // nothing else in guest RAM changed.
        EntropyFile.Expected(0, 100).CopyTo(expected, 0x10000);
        EntropyFile.Expected(100, 50).CopyTo(expected, 0x11000);
        EntropyFile.Expected(150, 60).CopyTo(expected, 0x12000);
        EntropyFile.Expected(210, 70).CopyTo(expected, 0x13000);
        BinaryPrimitives.WriteUInt16LittleEndian(expected.AsSpan((int)driver.UsedGpa + 2), 1);      // used->idx
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan((int)driver.UsedGpa + 4), 0);      // ring[0].id
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan((int)driver.UsedGpa + 8), 280);    // ring[0].len
        byte[] actual = ram.File.ToArray();
        int same = actual.AsSpan().CommonPrefixLength(expected);
        Assert.True(same == actual.Length, $"guest RAM at 0x{same:x} is 0x{actual[Math.Min(same, actual.Length - 1)]:x2}, expected 0x{expected[Math.Min(same, actual.Length - 1)]:x2}");
    }

    /// <summary>The bytes of EntropyFile, in order: the n-th byte handed out is EntropyFile.Byte(n).</summary>
    private sealed class SequenceSource : IEntropySource
    {
        private long _position;

        public string Name => "sequence";

        public int Fill(Span<byte> destination)
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = EntropyFile.Byte(_position++);
            return destination.Length;
        }

        public void Dispose() { }
    }
}
