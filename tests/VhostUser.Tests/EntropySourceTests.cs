// Where the bytes come from: the built-in CSPRNG's pool, a character device, and a file that
// runs out.

using System;
using VhostUser.Tests.Frontend;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class EntropySourceTests
{
    [Fact]
    public void TheCsprngPool_HandsOutEachByteOnce()
    {
        using var source = new CsprngEntropySource();
        var a = new byte[CsprngEntropySource.PoolSize - 10];
        var b = new byte[64];
        Assert.Equal(a.Length, source.Fill(a));
        Assert.Equal(b.Length, source.Fill(b));   // crosses into a fresh pool
        // 64 bytes straddling two draws: a repeat of the pool start would show up as equality.
        Assert.NotEqual(a.AsSpan(0, 64).ToArray(), b);
        var big = new byte[CsprngEntropySource.PoolSize * 2];
        Assert.Equal(big.Length, source.Fill(big));
        Assert.Contains(big, x => x != 0);
    }

    [Fact]
    public void ACharacterDevice_CanBeTheSource()
    {
        using var backend = new BackendHarness("-f", "/dev/urandom");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        Assert.Contains(guest.Ram.Read(TestGuest.BufferArea, 64), x => x != 0);
        backend.Log.AssertContains("entropy from /dev/urandom");
    }

    [Fact]
    public void AnExhaustedFile_FillsWhatItHas_ThenLeavesBuffersWaiting()
    {
        using var backend = new BackendHarness("-f", "{entropy:10}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();

        Assert.Equal(10u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        Assert.Equal(EntropyFile.Expected(0, 10), guest.Ram.Read(TestGuest.BufferArea, 10));

        guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);
        guest.Driver.Publish(guest.NextSlot);
        guest.Kick();
        backend.Log.AssertContains("is exhausted (end of file)");
        Assert.False(guest.Driver.WaitForUsedIdx(2, timeoutMs: 100));   // never replayed, never empty
        guest.Frontend.Sync();
        backend.AssertAlive();
    }

    [Fact]
    public void AMissingSource_IsAStartupError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new BackendHarness("-f", "/nonexistent/entropy"));
        Assert.Contains("cannot open rng source /nonexistent/entropy", e.Message);
    }
}
