// Busy polling (RngDevice.BusyPollNs, --busy-poll-us): an emptied ring keeps kicks off for a
// while and is looked at on every turn of the event loop, so a guest that keeps re-posting is
// served without kicking; once the ring has stayed empty for the poll time, kicks are asked for
// again (avail_event = next avail index, 2.7.10) and a kick serves it. The backend runs on a
// FakeClock that only the test moves, so "still polling" and "gave up" are exact instants, and
// the guest's view is checked as a driver computes it: vring_need_event on avail_event.

using VhostUser.Tests.Frontend;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class BusyPollTests
{
    private const long PollNs = 200_000;
    private const string Polling = "vring 0: polling for more buffers, up to 200 us, before asking for a kick";
    private const string GaveUp = "vring 0: no buffer for 200 us of polling; kicks re-enabled";

    /// <summary>Publishes one 64-byte buffer without kicking; returns whether a driver would kick
    /// (virtqueue_kick_prepare: vring_need_event on the device's avail_event, read after publishing).</summary>
    private static bool PostWouldKick(TestGuest guest, int n)
    {
        ushort old = guest.Driver.AvailIdx;
        guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea + 0x100UL * (ulong)(n % 4), 64);
        guest.Driver.Publish(guest.NextSlot);
        return SplitRing.NeedEvent(guest.Driver.AvailEvent, guest.Driver.AvailIdx, old);
    }

    private static void AssertUsed(TestGuest guest) =>
        Assert.True(guest.Driver.WaitForUsedIdx(guest.Driver.AvailIdx), $"buffer {guest.Driver.AvailIdx - 1} not served without a kick: used->idx {guest.Driver.UsedIdx}");

    [Fact]
    public void ABusyRing_IsServedWithoutKicks_WhileThePollLasts()
    {
        var clock = new FakeClock();   // frozen: the poll does not time out
        using var backend = new BackendHarness(clock, "-vv");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);   // the ring was idle: this one is kicked
        backend.Log.AssertContains(Polling);

        for (int n = 1; n <= 12; n++)   // three times round the 4-entry ring
        {
            Assert.False(PostWouldKick(guest, n), $"buffer {n}: the device asked for a kick while polling (avail_event {guest.Driver.AvailEvent})");
            AssertUsed(guest);
        }
        guest.Frontend.Sync();
        Assert.Equal(1, backend.Log.Count("vring 0: kick"));
        Assert.False(backend.Log.Contains(GaveUp));
    }

    // Without EVENT_IDX a driver kicks unless used->flags says VIRTQ_USED_F_NO_NOTIFY (2.7.7.2):
    // the flag is up while the ring is polled, and down again (with the re-check) when the poll
    // gives up, as Linux's vhost_disable_notify / vhost_enable_notify do.
    [Fact]
    public void WithoutEventIdx_TheNoNotifyFlagIsUpWhileThePollLasts()
    {
        var clock = new FakeClock();
        using var backend = new BackendHarness(clock, "-vv");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start(VhostUserFeatures.Offered & ~(1UL << VhostUserFeatures.VIRTIO_RING_F_EVENT_IDX));
        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        backend.Log.AssertContains(Polling);
        Assert.Equal(SplitRing.VIRTQ_USED_F_NO_NOTIFY, guest.Driver.UsedFlags);

        for (int n = 1; n <= 8; n++)   // what a driver does: kick only without the flag
        {
            guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea + 0x100UL * (ulong)(n % 4), 64);
            guest.Driver.Publish(guest.NextSlot);
            Assert.Equal(SplitRing.VIRTQ_USED_F_NO_NOTIFY, guest.Driver.UsedFlags);
            AssertUsed(guest);
        }
        clock.Advance(PollNs);
        backend.Log.AssertContains(GaveUp);
        Assert.Equal(0, guest.Driver.UsedFlags);
        Assert.Equal((ushort)0, guest.Driver.AvailEvent);   // untouched without EVENT_IDX
        guest.Frontend.Sync();
        Assert.Equal(1, backend.Log.Count("vring 0: kick"));
    }

    [Fact]
    public void WhenThePollTimesOut_KicksAreAskedForAgain_AndAKickServesTheRing()
    {
        var clock = new FakeClock();
        using var backend = new BackendHarness(clock, "-vv");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        backend.Log.AssertContains(Polling);

        // 1 ns short of the poll time: still polling. Two round trips: the loop has turned, and
        // looked at the ring, after the clock moved.
        clock.Advance(PollNs - 1);
        guest.Frontend.Sync();
        guest.Frontend.Sync();
        Assert.False(backend.Log.Contains(GaveUp));
        Assert.NotEqual(guest.Driver.AvailIdx, guest.Driver.AvailEvent);

        clock.Advance(1);
        backend.Log.AssertContains(GaveUp);
        Assert.Equal(guest.Driver.AvailIdx, guest.Driver.AvailEvent);   // "kick me at the next entry"

        Assert.True(PostWouldKick(guest, 1), "the poll timed out, yet the device did not ask for a kick");
        guest.Kick();
        AssertUsed(guest);
        backend.Log.AssertContains(Polling);   // served, and polling again
        Assert.Equal(2, backend.Log.Count("vring 0: kick"));
    }

    [Fact]
    public void APollingRing_HoldsUpNeitherItsOwnMessagesNorOtherGuests()
    {
        var clock = new FakeClock();   // socket 0's ring polls until the test ends
        using var backend = new BackendHarness(clock, "-vv", "-c", "2");
        using var busy = new TestGuest(backend.Socket(0));
        busy.Start();
        Assert.Equal(64u, busy.PostAndWait(TestGuest.BufferArea, 64).Len);
        backend.Log.AssertContains(Polling);

        using var other = new TestGuest(backend.Socket(1));
        other.Start();                                                        // a whole set-up, message by message
        Assert.Equal(64u, other.PostAndWait(TestGuest.BufferArea, 64).Len);   // and its kick
        for (int i = 0; i < 10; i++) busy.Frontend.Sync();                     // the polling guest's own connection answers

        Assert.False(PostWouldKick(busy, 1));
        AssertUsed(busy);                                                      // and it is still polled
    }

    [Fact]
    public void WithBusyPollOff_KicksAreAskedForAsSoonAsTheRingIsEmpty()
    {
        var clock = new FakeClock();
        using var backend = new BackendHarness(clock, "-vv", "--busy-poll-us", "0");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        Assert.Equal(guest.Driver.AvailIdx, guest.Driver.AvailEvent);
        Assert.True(PostWouldKick(guest, 1));
        Assert.False(backend.Log.Contains("polling for more buffers"));
    }
}
