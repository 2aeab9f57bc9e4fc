// --max-bytes/--period end to end: partial fills, never an empty completion, a loop that keeps
// answering while a guest waits, and one budget per socket.

using System.Diagnostics;
using VhostUser.Tests.Frontend;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class RateLimitTests
{
    [Fact]
    public void AnExhaustedBudget_FillsPartially_ThenQueuesWithoutBlockingOrEmptyCompletions()
    {
        // 80 bytes per minute over two sockets: 40 each, and no refill within the test.
        using var backend = new BackendHarness("-c", "2", "-m", "80", "-p", "60000");
        using var a = new TestGuest(backend.Socket(0));
        using var b = new TestGuest(backend.Socket(1));
        a.Start();
        b.Start();

        Assert.Equal(40u, a.PostAndWait(TestGuest.BufferArea, 64).Len);   // partial, never zero

        a.Driver.WriteDesc(a.NextSlot, TestGuest.BufferArea + 0x100, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);
        a.Driver.Publish(a.NextSlot);
        a.Kick();
        for (int i = 0; i < 20; i++) a.Frontend.Sync();                    // the event loop keeps answering
        Assert.False(a.Driver.WaitForUsedIdx(2, timeoutMs: 200));          // queued, not completed with 0 bytes
        Assert.Equal((ushort)1, a.Driver.UsedIdx);

        Assert.Equal(40u, b.PostAndWait(TestGuest.BufferArea, 64).Len);   // socket 1 has its own budget

        Assert.Equal(1u, a.StopRing().Num);                                 // the waiting buffer was not consumed
    }

    [Fact]
    public void TheBudgetRefills_AndIsRespectedOverTime()
    {
        using var backend = new BackendHarness("-m", "64", "-p", "100");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        var clock = Stopwatch.StartNew();
        for (ushort i = 0; i < 4; i++) guest.Driver.WriteDesc(i, TestGuest.BufferArea + 0x100UL * i, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);

        guest.Driver.Publish(0, 1, 2, 3);
        guest.Kick();

        Assert.True(guest.Driver.WaitForUsedIdx(4, 10_000), $"used->idx {guest.Driver.UsedIdx}");
        double elapsedMs = clock.Elapsed.TotalMilliseconds;
        ulong total = 0;
        for (int i = 0; i < 4; i++)
        {
            uint len = guest.Driver.UsedElem(i).Len;
            Assert.InRange(len, 1u, 64u);
            total += len;
        }
        Assert.Equal(256UL, total);   // full 64-byte chunks, no trickle
        // A full bucket plus what accrued meanwhile: 64 + 64 per 100 ms.
        Assert.True(total <= 64 + 64 * (elapsedMs / 100.0) + 1, $"{total} bytes in {elapsedMs:F0} ms exceeds the limit");
    }

    [Fact]
    public void ReconnectingDoesNotRefillTheBudget()
    {
        using var backend = new BackendHarness("-m", "40", "-p", "60000");
        using (var first = new TestGuest(backend.Socket(0)))
        {
            first.Start();
            Assert.Equal(40u, first.PostAndWait(TestGuest.BufferArea, 64).Len);
        }
        using var second = new TestGuest(backend.Socket(0));
        second.Start();
        second.Driver.WriteDesc(0, TestGuest.BufferArea, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);
        second.Driver.Publish(0);
        second.Kick();
        second.Frontend.Sync();
        Assert.False(second.Driver.WaitForUsedIdx(1, timeoutMs: 200));
    }
}
