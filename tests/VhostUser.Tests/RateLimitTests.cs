// --max-bytes/--period end to end: partial fills, never an empty completion, a loop that keeps
// answering while a guest waits, and one budget per socket. The backend runs on a FakeClock, so
// every check is about exact bytes at exact instants; "not served" is checked once the backend
// has said it is waiting (its -vv "buffers waiting" line), never after a sleep.

using VhostUser.Tests.Frontend;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class RateLimitTests
{
    private const long Ms = 1_000_000;

    [Fact]
    public void AnExhaustedBudget_FillsPartially_ThenQueuesWithoutBlockingOrEmptyCompletions()
    {
        // 80 bytes per minute over two sockets: 40 each.
        var clock = new FakeClock();
        using var backend = new BackendHarness(clock, "-vv", "-c", "2", "-m", "80", "-p", "60000");
        using var a = new TestGuest(backend.Socket(0));
        using var b = new TestGuest(backend.Socket(1));
        a.Start();
        b.Start();

        Assert.Equal(40u, a.PostAndWait(TestGuest.BufferArea, 64).Len);   // partial, never zero

        Post(a, TestGuest.BufferArea + 0x100);
        WaitForWaitingLines(backend, 0, 1);
        for (int i = 0; i < 20; i++) a.Frontend.Sync();                    // the event loop keeps answering
        Assert.Equal((ushort)1, a.Driver.UsedIdx);                          // queued, not completed with 0 bytes

        Assert.Equal(40u, b.PostAndWait(TestGuest.BufferArea, 64).Len);   // socket 1 has its own budget

        Assert.Equal(1u, a.StopRing().Num);                                 // the waiting buffer was not consumed
    }

    [Fact]
    public void TheBudgetRefillsAtItsRate_AndNotAByteSooner()
    {
        // 64 bytes per 100 ms: a full bucket at the start, then 64 bytes every 100 ms.
        var clock = new FakeClock();
        using var backend = new BackendHarness(clock, "-vv", "-m", "64", "-p", "100");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        for (ushort i = 0; i < 4; i++) guest.Driver.WriteDesc(i, TestGuest.BufferArea + 0x100UL * i, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);

        guest.Driver.Publish(0, 1, 2, 3);
        guest.Kick();
        WaitForWaitingLines(backend, 0, 1);
        Assert.Equal((ushort)1, guest.Driver.UsedIdx);

        for (ushort served = 1; served < 4; served++)
        {
            // 1 ns short of the next 64 bytes (63 have accrued): a kick serves nothing, and the
            // pass says it is waiting.
            clock.Advance(100 * Ms - 1);
            guest.Kick();
            WaitForWaitingLines(backend, 0, 2 * served);
            Assert.Equal(served, guest.Driver.UsedIdx);

            // On time: the timer the backend armed serves the next buffer, in full.
            clock.Advance(1);
            guest.Frontend.Sync();   // wakes the loop, whose timer is now due
            Assert.True(guest.Driver.WaitForUsedIdx((ushort)(served + 1)), $"used->idx {guest.Driver.UsedIdx}\n{backend.Log}");
            if (served < 3) WaitForWaitingLines(backend, 0, 2 * served + 1);
        }
        for (int i = 0; i < 4; i++) Assert.Equal(((uint)i, 64u), guest.Driver.UsedElem(i));   // 64-byte chunks, no trickle
    }

    [Fact]
    public void ReconnectingDoesNotRefillTheBudget()
    {
        var clock = new FakeClock();
        using var backend = new BackendHarness(clock, "-vv", "-m", "40", "-p", "60000");
        using (var first = new TestGuest(backend.Socket(0)))
        {
            first.Start();
            Assert.Equal(40u, first.PostAndWait(TestGuest.BufferArea, 64).Len);
        }
        using var second = new TestGuest(backend.Socket(0));
        second.Start();
        Post(second, TestGuest.BufferArea);
        WaitForWaitingLines(backend, 0, 1);
        Assert.Equal((ushort)0, second.Driver.UsedIdx);

        // A period later the bucket is full again, and the waiting buffer is served.
        clock.Advance(60_000 * Ms);
        second.Frontend.Sync();
        Assert.True(second.Driver.WaitForUsedIdx(1), $"used->idx {second.Driver.UsedIdx}\n{backend.Log}");
        Assert.Equal(40u, second.Driver.UsedElem(0).Len);
    }

    private static void Post(TestGuest guest, ulong gpa)
    {
        guest.Driver.WriteDesc(guest.NextSlot, gpa, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);
        guest.Driver.Publish(guest.NextSlot);
        guest.Kick();
    }

    /// <summary>Waits until the backend has logged <paramref name="count"/> passes over socket
    /// <paramref name="socket"/>'s ring that ended with buffers left waiting; each pass has
    /// finished (published what it served) before its line is written.</summary>
    private static void WaitForWaitingLines(BackendHarness backend, int socket, int count)
    {
        string line = $"{backend.Socket(socket)}: vring 0: buffers waiting";
        Assert.True(Wait.Until(() => backend.Log.Count(line) >= count), $"expected {count} \"{line}\" lines:\n{backend.Log}");
        Assert.Equal(count, backend.Log.Count(line));
    }
}
