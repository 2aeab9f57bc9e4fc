// Where the bytes come from: the built-in CSPRNG's pool, a character device, and a file that
// runs out.

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Security.Cryptography;
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
        var (repeat, straddling) = DrawAndFindARepeat(source);
        Assert.True(repeat is null, repeat);
        Assert.True(straddling > 50, $"only {straddling} draws straddled a refill of the pool");
    }

    /// <summary>The check above, against pools that do hand bytes out twice.</summary>
    [Theory]
    [InlineData(FlawedPool.Flaw.NeverRefills)]
    [InlineData(FlawedPool.Flaw.RefillsWithTheSameBytes)]
    public void TheRepeatCheck_CatchesAPoolThatHandsOutBytesTwice(FlawedPool.Flaw flaw)
    {
        using var source = new FlawedPool(flaw);
        Assert.NotNull(DrawAndFindARepeat(source).Repeat);
    }

    /// <summary>
    /// Draws 4 MiB in a fixed mix of sizes (one byte, odd sizes, a pool's size less ten, more
    /// than a pool, which skips it), so that many draws straddle a refill, and looks for any
    /// 16-byte sequence that occurs twice in the output, at any offset. 16 random bytes recur
    /// by chance with probability about 2^-128 per pair; a pool that hands out a byte twice (or
    /// its wiped zeros) repeats whole runs. Returns the first repeat found, if any, and how many
    /// draws straddled a refill.
    /// </summary>
    private static (string? Repeat, int Straddling) DrawAndFindARepeat(IEntropySource source)
    {
        const int Total = 4 << 20, Pool = CsprngEntropySource.PoolSize;
        int[] sizes = { 1, 7, 16, 64, 100, 333, 4096, 4099, Pool - 10, Pool - 1, Pool, Pool + 1, 3 * Pool + 7, 5 };
        var output = new byte[Total];
        int filled = 0, straddling = 0, poolUsed = Pool;   // the pool starts empty
        for (int i = 0; filled < Total; i++)
        {
            int n = Math.Min(sizes[i % sizes.Length], Total - filled);
            Assert.Equal(n, source.Fill(output.AsSpan(filled, n)));
            filled += n;
            if (n >= Pool) continue;                        // served without the pool
            if (poolUsed == Pool) poolUsed = 0;             // refilled before this draw
            if (poolUsed + n > Pool) { straddling++; poolUsed += n - Pool; }
            else poolUsed += n;
        }

        // Every 8th window goes into the set; every window is looked up. A run of 23 bytes or
        // more that recurs has an indexed window in its first occurrence, met again in the second.
        var seen = new HashSet<UInt128>(Total / 8);
        for (int at = 0; at + 16 <= Total; at++)
        {
            var window = BinaryPrimitives.ReadUInt128LittleEndian(output.AsSpan(at, 16));
            if (seen.Contains(window)) return ($"the 16 bytes at offset {at} ({Convert.ToHexString(output, at, 16)}) occurred before", straddling);
            if (at % 8 == 0) seen.Add(window);
        }
        return (null, straddling);
    }

    /// <summary>CsprngEntropySource's pool with a deliberate flaw.</summary>
    public sealed class FlawedPool : IEntropySource
    {
        public enum Flaw { NeverRefills, RefillsWithTheSameBytes }

        private readonly Flaw _flaw;
        private readonly byte[] _pool = new byte[CsprngEntropySource.PoolSize];
        private int _next = CsprngEntropySource.PoolSize;
        private bool _filledOnce;

        public FlawedPool(Flaw flaw) => _flaw = flaw;

        public string Name => "flawed pool";

        public int Fill(Span<byte> destination)
        {
            if (destination.Length >= _pool.Length)
            {
                RandomNumberGenerator.Fill(destination);
                return destination.Length;
            }
            for (int written = 0; written < destination.Length;)
            {
                if (_next == _pool.Length)
                {
                    if (_flaw == Flaw.RefillsWithTheSameBytes) new Random(42).NextBytes(_pool);   // a generator seeded alike each time
                    else if (!_filledOnce) RandomNumberGenerator.Fill(_pool);                     // then it hands out wiped bytes
                    _filledOnce = true;
                    _next = 0;
                }
                int n = Math.Min(destination.Length - written, _pool.Length - _next);
                _pool.AsSpan(_next, n).CopyTo(destination[written..]);
                _pool.AsSpan(_next, n).Clear();
                _next += n;
                written += n;
            }
            return destination.Length;
        }

        public void Dispose() { }
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
        using var backend = new BackendHarness("-vv", "-f", "{entropy:10}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();

        Assert.Equal(10u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        Assert.Equal(EntropyFile.Expected(0, 10), guest.Ram.Read(TestGuest.BufferArea, 10));

        guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea, 64, VirtqDesc.VIRTQ_DESC_F_WRITE);
        guest.Driver.Publish(guest.NextSlot);
        guest.Kick();
        backend.Log.AssertContains("is exhausted (end of file)");
        backend.Log.AssertContains("vring 0: buffers waiting");   // that pass is over, and left it queued
        Assert.Equal((ushort)1, guest.Driver.UsedIdx);            // never replayed, never empty
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
