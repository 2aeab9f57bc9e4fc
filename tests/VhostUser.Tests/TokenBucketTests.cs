// The rate limiter's arithmetic, on an explicit clock.

using System;
using VhostUserRng.Rng;
using Xunit;

namespace VhostUser.Tests;

public class TokenBucketTests
{
    private const long Ms = 1_000_000;

    [Fact]
    public void StartsFull_AndRefillsInProportionToElapsedTime()
    {
        var bucket = new TokenBucket(1000, 1000 * (ulong)Ms, nowNs: 0);
        Assert.Equal(1000UL, bucket.Available(0));
        bucket.Consume(1000);
        Assert.Equal(0UL, bucket.Available(0));
        Assert.Equal(250UL, bucket.Available(250 * Ms));
        Assert.Equal(750UL, bucket.Available(750 * Ms));
        Assert.Equal(1000UL, bucket.Available(5000 * Ms));   // capped at one period's worth
    }

    [Fact]
    public void FractionalRefillIsCarried_NotLost()
    {
        var bucket = new TokenBucket(3, 1000 * (ulong)Ms, 0);   // one byte every 333.33 ms
        bucket.Consume(3);
        ulong total = 0;
        for (long t = 100 * Ms; t <= 1000 * Ms; t += 100 * Ms)
        {
            ulong got = bucket.Available(t);
            bucket.Consume(got);
            total += got;
        }
        Assert.Equal(3UL, total);   // 10 steps of 0.3 bytes add up to 3, not 0
    }

    [Fact]
    public void TellsWhenEnoughBytesWillBeThere()
    {
        var bucket = new TokenBucket(100, 1000 * (ulong)Ms, 0);
        Assert.Equal(0, bucket.NanosecondsUntilAvailable(0, 64));
        bucket.Consume(100);
        Assert.Equal(10 * Ms, bucket.NanosecondsUntilAvailable(0));        // 1 byte: 10 ms
        Assert.Equal(640 * Ms, bucket.NanosecondsUntilAvailable(0, 64));
        Assert.Equal(1000 * Ms, bucket.NanosecondsUntilAvailable(0, 500)); // capped at capacity
        Assert.Equal(64UL, bucket.Available(640 * Ms));
    }

    [Fact]
    public void HugeLimits_DoNotOverflow()
    {
        var bucket = new TokenBucket(ulong.MaxValue, 65536 * (ulong)Ms, 0);
        bucket.Consume(ulong.MaxValue);
        ulong half = bucket.Available(32768 * Ms);
        Assert.InRange(half, ulong.MaxValue / 2 - 1, ulong.MaxValue / 2 + 1);
        Assert.Equal(ulong.MaxValue, bucket.Available(70000 * Ms));
    }

    [Fact]
    public void ConsumingMoreThanAvailable_IsABug()
    {
        var bucket = new TokenBucket(10, (ulong)Ms, 0);
        Assert.Throws<InvalidOperationException>(() => bucket.Consume(11));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(0, (ulong)Ms, 0));
    }
}
