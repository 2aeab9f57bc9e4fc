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

    [Theory]
    [MemberData(nameof(BreakCauseNames))]
    public void ABrokenRing_WhoseFrontendSetsItUpAgainWithoutStoppingIt_StaysBroken(string cause)
    {
        using var backend = new BackendHarness("-vv");
        using var guest = new TestGuest(backend.Socket(0));
        BreakRing(backend, guest, cause);
        var f = guest.Frontend;
        guest.Driver.StartAt(0);

        // A complete, valid set-up, but no GET_VRING_BASE first: each part is turned down.
        Assert.Equal(0UL, f.SetMemTable(guest.Ram));
        Assert.Equal(1UL, f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, guest.Driver.Num, needReply: true));
        Assert.Equal(1UL, f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, 0, needReply: true));
        Assert.Equal(1UL, f.SetVringAddr(guest.Driver.Addr(), needReply: true));
        Assert.Equal(1UL, f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd, needReply: true));
        Assert.Equal(0UL, f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1, needReply: true));
        backend.Log.AssertContains("vring 0: VHOST_USER_SET_VRING_ADDR has no effect: the ring is broken (");
        Assert.Equal("broken", backend.Ring().State);

        guest.Driver.WriteDesc(0, TestGuest.BufferArea, 64, W);
        guest.Driver.Publish(0);
        KickAndWaitUntilHandled(backend, guest);
        Assert.Contains("vring 0: kick ignored: it is broken (", LastKickLine(backend));
        Assert.Equal((ushort)0, guest.Driver.UsedIdx);
    }

    [Theory]
    [MemberData(nameof(BreakCauseNames))]
    public void ABrokenRing_StoppedThenStartedWithoutANewSetUp_IsNotServed(string cause)
    {
        using var backend = new BackendHarness("-vv");
        using var guest = new TestGuest(backend.Socket(0));
        BreakRing(backend, guest, cause);
        var f = guest.Frontend;
        Assert.Equal(new VhostVringState(0, 0), guest.StopRing());

        // Started again with the old size and addresses assumed: the stop forgot them.
        guest.Driver.StartAt(0);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        guest.Driver.WriteDesc(0, TestGuest.BufferArea, 64, W);
        guest.Driver.Publish(0);
        KickAndWaitUntilHandled(backend, guest);
        Assert.Contains("vring 0: kick ignored: it is not set up (missing: SET_VRING_NUM SET_VRING_ADDR)", LastKickLine(backend));
        Assert.Equal((ushort)0, guest.Driver.UsedIdx);
        // Too late for the set-up now: the ring is started.
        Assert.Equal(1UL, f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, guest.Driver.Num, needReply: true));
        backend.Log.AssertContains("refused: VHOST_USER_SET_VRING_NUM for ring 0 while it is started");
    }

    [Fact]
    public void ABrokenRing_SetUpAgainWithTheSameBadAddresses_BreaksAgain()
    {
        using var backend = new BackendHarness("-vv");
        using var guest = new TestGuest(backend.Socket(0));
        var misaligned = guest.Driver.Addr() with { DescUserAddr = GuestRam.QemuMappingBase + 0x1008 };
        guest.StartupSequence();
        Assert.Equal(1UL, guest.DriverOkWithAddr(misaligned));
        Assert.True(Wait.Until(() => guest.TakeErrs() == 1), "the err fd was not signalled");

        guest.StopRing();
        Assert.Equal(1UL, guest.DriverOkWithAddr(misaligned));
        Assert.Equal(2, backend.Log.Count("vring 0 broken by the guest: descriptor table 0x7f1234001008 is not 16-byte aligned"));
        Assert.Equal(1UL, guest.TakeErrs());
        Assert.Equal("broken", backend.Ring().State);
    }

    [Fact]
    public void WhileOneGuestBreaksAndRecoversItsRing_AnotherConnectionIsServedThroughout()
    {
        // The entropy device has one queue per connection, so the other rings are other guests'.
        using var two = new TwoGuests("-vv");
        using var hostile = new TestGuest(two.HostileSocket);
        hostile.StartupSequence();
        Assert.Equal(1UL, hostile.DriverOkWithAddr(hostile.Driver.Addr() with { DescUserAddr = 0x7f00_0000_0000 }));
        two.AssertOthersUnharmed();

        hostile.StopRing();
        two.AssertOthersUnharmed();

        hostile.DriverOk();
        Assert.Equal(64u, hostile.PostAndWait(TestGuest.BufferArea, 64).Len);
        hostile.Driver.WriteDesc(hostile.NextSlot, 0x200000, 64, W);   // broken again, while serving
        hostile.Driver.Publish(hostile.NextSlot);
        hostile.Kick();
        two.Backend.Log.AssertContains("vring 0 broken by the guest: descriptor 1 (head 1)");
        two.AssertOthersUnharmed();
        Assert.Equal("started, enabled", two.Backend.Ring(socket: 1).State);
    }

    // --- the table of README.md, row by row ---------------------------------------------------

    /// <summary>Every message that concerns the ring, in each of the four states: what the
    /// frontend hears back, the state the ring is in afterwards, whether the err fd was
    /// signalled (only on entering "broken"), and whether a buffer is then served. The rows are
    /// README.md's table.</summary>
    [Theory]
    [InlineData("stopped", "SET_VRING_NUM", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_NUM", "refused", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_NUM", "refused", "started, enabled")]
    [InlineData("broken", "SET_VRING_NUM", "no effect", "broken")]
    [InlineData("stopped", "SET_VRING_BASE", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_BASE", "refused", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_BASE", "refused", "started, enabled")]
    [InlineData("broken", "SET_VRING_BASE", "no effect", "broken")]
    [InlineData("stopped", "SET_VRING_ADDR", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_ADDR", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_ADDR", "ok", "started, enabled")]
    [InlineData("broken", "SET_VRING_ADDR", "no effect", "broken")]
    [InlineData("stopped", "SET_VRING_ADDR misaligned", "breaks it", "broken")]
    [InlineData("started, disabled", "SET_VRING_ADDR misaligned", "breaks it", "broken")]
    [InlineData("started, enabled", "SET_VRING_ADDR misaligned", "breaks it", "broken")]
    [InlineData("broken", "SET_VRING_ADDR misaligned", "no effect", "broken")]
    [InlineData("stopped", "SET_VRING_KICK", "ok", "started, disabled")]
    [InlineData("started, disabled", "SET_VRING_KICK", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_KICK", "ok", "started, enabled")]
    [InlineData("broken", "SET_VRING_KICK", "no effect", "broken")]
    [InlineData("stopped", "SET_VRING_CALL", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_CALL", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_CALL", "ok", "started, enabled")]
    [InlineData("broken", "SET_VRING_CALL", "ok", "broken")]
    [InlineData("stopped", "SET_VRING_ERR", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_ERR", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_ERR", "ok", "started, enabled")]
    [InlineData("broken", "SET_VRING_ERR", "ok", "broken")]
    [InlineData("stopped", "SET_VRING_ENABLE 1", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_ENABLE 1", "ok", "started, enabled")]
    [InlineData("started, enabled", "SET_VRING_ENABLE 1", "ok", "started, enabled")]
    [InlineData("broken", "SET_VRING_ENABLE 1", "ok", "broken")]
    [InlineData("stopped", "SET_VRING_ENABLE 0", "ok", "stopped")]
    [InlineData("started, disabled", "SET_VRING_ENABLE 0", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_VRING_ENABLE 0", "ok", "started, disabled")]
    [InlineData("broken", "SET_VRING_ENABLE 0", "ok", "broken")]
    [InlineData("stopped", "GET_VRING_BASE", "base=0", "stopped")]
    [InlineData("started, disabled", "GET_VRING_BASE", "base=0", "stopped")]
    [InlineData("started, enabled", "GET_VRING_BASE", "base=1", "stopped")]
    [InlineData("broken", "GET_VRING_BASE", "base=1", "stopped")]
    [InlineData("stopped", "SET_MEM_TABLE", "ok", "stopped")]
    [InlineData("started, disabled", "SET_MEM_TABLE", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_MEM_TABLE", "ok", "started, enabled")]
    [InlineData("broken", "SET_MEM_TABLE", "ok", "broken")]
    [InlineData("stopped", "SET_MEM_TABLE without the rings", "ok", "broken")]
    [InlineData("started, disabled", "SET_MEM_TABLE without the rings", "ok", "broken")]
    [InlineData("started, enabled", "SET_MEM_TABLE without the rings", "ok", "broken")]
    [InlineData("broken", "SET_MEM_TABLE without the rings", "ok", "broken")]
    [InlineData("stopped", "SET_FEATURES", "ok", "stopped")]
    [InlineData("started, disabled", "SET_FEATURES", "ok", "started, disabled")]
    [InlineData("started, enabled", "SET_FEATURES", "ok", "started, enabled")]
    [InlineData("broken", "SET_FEATURES", "ok", "broken")]
    [InlineData("stopped", "SET_FEATURES without PROTOCOL_FEATURES", "ok", "stopped")]
    [InlineData("started, disabled", "SET_FEATURES without PROTOCOL_FEATURES", "ok", "started, enabled")]
    [InlineData("started, enabled", "SET_FEATURES without PROTOCOL_FEATURES", "ok", "started, enabled")]
    [InlineData("broken", "SET_FEATURES without PROTOCOL_FEATURES", "ok", "broken")]
    [InlineData("stopped", "RESET_OWNER", "ok", "stopped")]
    [InlineData("started, disabled", "RESET_OWNER", "ok", "started, disabled")]
    [InlineData("started, enabled", "RESET_OWNER", "ok", "started, disabled")]
    [InlineData("broken", "RESET_OWNER", "ok", "broken")]
    [InlineData("stopped", "kick", "-", "stopped")]
    [InlineData("started, disabled", "kick", "-", "started, disabled")]
    [InlineData("started, enabled", "kick", "-", "started, enabled")]
    [InlineData("broken", "kick", "-", "broken")]
    public void EachMessage_InEachRingState_DoesWhatTheReadmeTableSays(string from, string message, string answer, string to)
    {
        using var backend = new BackendHarness("-vv");
        using var guest = new TestGuest(backend.Socket(0));
        EnterState(backend, guest, from);
        Assert.Equal(from, backend.Ring().State);

        Assert.Equal(answer, Send(backend, guest, message));
        guest.Frontend.Sync();

        Assert.Equal(to, backend.Ring().State);
        Assert.Equal(from != "broken" && to == "broken" ? 1UL : 0UL, guest.TakeErrs());
        AssertServedOnlyIfStartedAndEnabled(backend, guest, to);
    }

    [Fact]
    public void EnablingIsTrackedWhileStopped_AndTakesEffectWhenTheRingStarts()
    {
        using var backend = new BackendHarness("-vv");
        using var guest = new TestGuest(backend.Socket(0));
        EnterState(backend, guest, "stopped");
        guest.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);

        guest.Frontend.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        guest.Frontend.Sync();

        Assert.Equal("started, enabled", backend.Ring().State);
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
    }

    /// <summary>Brings ring 0 into <paramref name="state"/> the way QEMU and a guest would.
    /// "started, enabled" and "broken" have served one buffer (so GET_VRING_BASE reports 1);
    /// "broken" then met a descriptor outside guest memory.</summary>
    private static void EnterState(BackendHarness backend, TestGuest guest, string state)
    {
        var f = guest.Frontend;
        guest.StartupSequence();
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered);
        Assert.Equal(0UL, f.SetMemTable(guest.Ram));
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, guest.Driver.Num);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, 0);
        f.SetVringAddr(guest.Driver.Addr());
        if (state != "stopped") f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        if (state is "started, enabled" or "broken")
        {
            f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
            Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
        }
        if (state == "broken")
        {
            guest.Driver.WriteDesc(guest.NextSlot, 0x200000, 64, W);
            guest.Driver.Publish(guest.NextSlot);
            guest.Kick();
            Assert.True(Wait.Until(() => guest.TakeErrs() == 1), "the err fd was not signalled");
        }
        f.Sync();
        guest.TakeCalls();
    }

    /// <summary>Sends <paramref name="message"/> (with NEED_REPLY where it has no reply of its
    /// own) and says what came back: "ok", "refused" (a request error), "no effect" (the ring
    /// is broken), "breaks it" (the ring was broken by it), "base=N", or "-" for a kick.</summary>
    private static string Send(BackendHarness backend, TestGuest guest, string message)
    {
        var f = guest.Frontend;
        int linesBefore = backend.Log.Lines.Length;
        ulong ack;
        switch (message)
        {
            case "SET_VRING_NUM": ack = f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, guest.Driver.Num, needReply: true)!.Value; break;
            case "SET_VRING_BASE": ack = f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, 0, needReply: true)!.Value; break;
            case "SET_VRING_ADDR": ack = f.SetVringAddr(guest.Driver.Addr(), needReply: true)!.Value; break;
            case "SET_VRING_ADDR misaligned": ack = f.SetVringAddr(guest.Driver.Addr() with { DescUserAddr = GuestRam.QemuMappingBase + 0x1008 }, needReply: true)!.Value; break;
            case "SET_VRING_KICK": ack = f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd, needReply: true)!.Value; break;
            case "SET_VRING_CALL": ack = f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, guest.CallFd, needReply: true)!.Value; break;
            case "SET_VRING_ERR": ack = f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_ERR, 0, guest.ErrFd, needReply: true)!.Value; break;
            case "SET_VRING_ENABLE 1": ack = f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1, needReply: true)!.Value; break;
            case "SET_VRING_ENABLE 0": ack = f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 0, needReply: true)!.Value; break;
            case "GET_VRING_BASE": return $"base={f.GetVringBase(0).Num}";
            case "SET_MEM_TABLE": ack = f.SetMemTable(guest.Ram); break;
            case "SET_MEM_TABLE without the rings":
                // RAM from 0x8000 on: the rings at 0x1000-0x3000 are no longer in it.
                var region = guest.Ram.Regions[0];
                ack = f.SetMemTable(new[] { new VhostUserMemoryRegion(0x8000, region.MemorySize - 0x8000, region.UserspaceAddr + 0x8000, 0x8000) }, new[] { guest.Ram.Fd });
                break;
            case "SET_FEATURES": ack = f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered, needReply: true)!.Value; break;
            case "SET_FEATURES without PROTOCOL_FEATURES":
                ack = f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered & ~(1UL << VhostUserFeatures.VHOST_USER_F_PROTOCOL_FEATURES), needReply: true)!.Value;
                break;
            case "RESET_OWNER": ack = f.Request(VhostUserRequest.VHOST_USER_RESET_OWNER, needReply: true).U64; break;
            case "kick":
                if (backend.Ring().KickFd >= 0) KickAndWaitUntilHandled(backend, guest);
                else guest.Kick();   // nobody listens
                return "-";
            default: throw new ArgumentException(message);
        }
        if (ack == 0) return "ok";
        string said = string.Join("\n", backend.Log.Lines[linesBefore..]);
        return said.Contains("refused: ") ? "refused"
            : said.Contains("has no effect: the ring is broken") ? "no effect"
            : said.Contains("vring 0 broken by the guest: ") ? "breaks it"
            : $"ack {ack} with the log saying: {said}";
    }

    /// <summary>Posts a buffer and kicks. In "started, enabled" it must be served; otherwise it
    /// must not be, which is checked once the backend has handled the kick (its -vv log line
    /// says so, with the reason), or, when the backend holds no kick fd, after a round trip.</summary>
    private static void AssertServedOnlyIfStartedAndEnabled(BackendHarness backend, TestGuest guest, string state)
    {
        ushort used = guest.Driver.UsedIdx;
        guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea, 16, W);
        guest.Driver.Publish(guest.NextSlot);
        if (state == "started, enabled")
        {
            guest.Kick();
            Assert.True(guest.Driver.WaitForUsedIdx((ushort)(used + 1)), $"not served: used->idx {guest.Driver.UsedIdx}\n{backend.Log}");
            return;
        }
        if (backend.Ring().KickFd >= 0)
        {
            KickAndWaitUntilHandled(backend, guest);
            Assert.Contains(state == "broken" ? "kick ignored: it is broken (" : "kick ignored: it is disabled", LastKickLine(backend));
        }
        else
        {
            guest.Kick();   // stopped, or broken before it started: nobody listens
        }
        guest.Frontend.Sync();
        Assert.Equal(used, guest.Driver.UsedIdx);
    }

    /// <summary>Kicks and waits for the backend's -vv line about it ("vring 0: kick" or
    /// "vring 0: kick ignored: why"): whatever the kick does has been done by then.</summary>
    private static void KickAndWaitUntilHandled(BackendHarness backend, TestGuest guest)
    {
        int before = backend.Log.Count("vring 0: kick");
        guest.Kick();
        Assert.True(Wait.Until(() => backend.Log.Count("vring 0: kick") > before), $"the kick was not handled:\n{backend.Log}");
    }

    private static string LastKickLine(BackendHarness backend) =>
        Array.FindLast(backend.Log.Lines, l => l.Contains("vring 0: kick", StringComparison.Ordinal)) ?? "";
}
