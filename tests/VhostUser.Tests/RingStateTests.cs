// The life of a ring (vhost-user.rst "Ring states", and tools/vhost-user-rng/README.md's table):
// stopped, started but disabled, started and enabled, and broken, which only a complete stop
// (GET_VRING_BASE) followed by a new set-up ends. Everything here goes over a real socket.

using System;
using System.Collections.Generic;
using VhostUser.Tests.Frontend;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class RingStateTests
{
    private const ushort W = VirtqDesc.VIRTQ_DESC_F_WRITE;

    // --- broken, and back --------------------------------------------------------------------

    /// <summary>Ways a guest breaks its ring: at set-up (the addresses QEMU passes on from the
    /// guest's queue registers) and while the ring is served (what the guest put in it).</summary>
    private static readonly Dictionary<string, (Action<TestGuest> Break, string Reason)> BreakCauses = new()
    {
        ["set-up: descriptor table not 16-byte aligned"] = (g =>
            {
                g.StartupSequence();
                Assert.Equal(1UL, g.DriverOkWithAddr(g.Driver.Addr() with { DescUserAddr = GuestRam.QemuMappingBase + 0x1008 }));
            }, "descriptor table 0x7f1234001008 is not 16-byte aligned"),
        ["set-up: descriptor table outside the memory table"] = (g =>
            {
                g.StartupSequence();
                Assert.Equal(1UL, g.DriverOkWithAddr(g.Driver.Addr() with { DescUserAddr = 0x7f00_0000_0000 }));
            }, "descriptor table 0x7f0000000000 (64 bytes) is not inside one memory region"),
        ["set-up: used ring running off the end of memory"] = (g =>
            {
                g.StartupSequence();
                Assert.Equal(1UL, g.DriverOkWithAddr(g.Driver.Addr() with { UsedUserAddr = GuestRam.QemuMappingBase + 0x100000 - 8 }));
            }, "used ring 0x7f12340ffff8 (38 bytes) is not inside one memory region"),
        ["serving: a descriptor outside guest memory"] = (g =>
            {
                g.Start();
                g.Driver.WriteDesc(0, 0x200000, 64, W);
                g.Driver.Publish(0);
                g.Kick();
            }, "descriptor 0 (head 0): buffer 0x200000+64 is outside guest memory"),
        ["serving: avail->idx jumping past the queue size"] = (g =>
            {
                g.Start();
                g.Driver.SetAvailIdx(5);
                g.Kick();
            }, "avail->idx jumped to 5 with next avail 0"),
    };

    public static TheoryData<string> BreakCauseNames() => new(BreakCauses.Keys);

    private static void BreakRing(BackendHarness backend, TestGuest guest, string cause)
    {
        var (breakIt, reason) = BreakCauses[cause];
        breakIt(guest);
        backend.Log.AssertContains("vring 0 broken by the guest: " + reason);
        guest.Kick();
        backend.Log.AssertContains("vring 0: kick ignored: it is broken");
    }

    [Theory]
    [MemberData(nameof(BreakCauseNames))]
    public void ABrokenRing_IsServedAgain_AfterAStopAndACompleteNewSetUp(string cause)
    {
        using var backend = new BackendHarness("-vv");
        using var guest = new TestGuest(backend.Socket(0));
        BreakRing(backend, guest, cause);

        // The guest resets its device, and QEMU does what the log line asks: it stops the ring
        // (nothing was consumed) and, at the guest's next DRIVER_OK, sets it up again.
        Assert.Equal(new VhostVringState(0, 0), guest.StopRing());
        guest.Driver.StartAt(0);
        guest.DriverOk();

        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        Assert.Contains(guest.Ram.Read(TestGuest.BufferArea, 64), b => b != 0);
    }
}
