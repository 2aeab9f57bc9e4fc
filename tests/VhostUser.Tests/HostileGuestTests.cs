// Every guest-controlled value the notes list as hostile: each breaks only its own ring, with
// a log line naming the problem and a signal on the ring's err fd. The connection, the process
// and the other guest carry on.

using System;
using System.Collections.Generic;
using VhostUser.Tests.Frontend;
using VhostUserRng.Protocol;
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
    public void DescriptorsRewrittenWhileServed_AreReadOnce_SoNothingOutsideTheBufferIsWritten()
    {
        // A second thread flips the descriptor between a valid buffer and an address past the end
        // of guest RAM. Validating one read and using another would write outside guest memory
        // (a crash, or corruption of the backend); reading once yields either a filled buffer or a
        // broken ring, never anything else.
        using var backend = new BackendHarness("-c", "2");
        using var good = new TestGuest(backend.Socket(1));
        good.Start();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.Ram.Fill(0x40000, 0x1000, 0xAA);
        int completed = 0, broken = 0;
        bool stop = false;
        var flipper = new System.Threading.Thread(() =>
        {
            while (!System.Threading.Volatile.Read(ref stop))
                for (int slot = 0; slot < 4; slot++)
                {
                    guest.Driver.WriteDesc(slot, 0x40800, 64, W);
                    guest.Driver.WriteDesc(slot, 0xFFFF_FFFF_FFFF_F000, 64, W);
                }
        });
        flipper.Start();
        try
        {
            for (int round = 0; round < 200; round++)
            {
                ushort before = guest.Driver.UsedIdx;
                guest.Driver.Publish(guest.NextSlot);
                guest.Kick();
                guest.Frontend.Sync();
                if (Wait.Until(() => guest.Driver.UsedIdx != before, 50)) { completed++; continue; }
                if (!backend.Log.Contains("vring 0 broken by the guest")) continue;
                broken++;
                var state = guest.StopRing();   // reset the ring, as a guest reset would
                guest.Driver.StartAt((ushort)state.Num);
                guest.DriverOk(vringBase: (ushort)state.Num);
            }
        }
        finally
        {
            System.Threading.Volatile.Write(ref stop, true);
            flipper.Join();
        }
        backend.AssertAlive();
        Assert.True(completed + broken > 0);
        Assert.All(guest.Ram.Read(0x40000, 0x800), b => Assert.Equal(0xAA, b));
        Assert.All(guest.Ram.Read(0x40800 + 64, 0x800 - 64), b => Assert.Equal(0xAA, b));
        Assert.Equal(8u, good.PostAndWait(TestGuest.BufferArea, 8).Len);
    }
}
