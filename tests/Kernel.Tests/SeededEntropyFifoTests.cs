using Xunit.Sdk;

namespace GuestOS.Kernel.Tests;

// The byte-for-byte entropy check is only as good as the fixture behind it: the FIFO must
// deliver the stream whose digests it computes, and a digest of a stream with one buffer lost,
// repeated or moved must not match.
public class SeededEntropyFifoTests
{
    private const int Buffer = 16 * 1024;   // a buffer size the driver uses (rng.bufsize=16K)

    [Fact]
    public void The_FIFO_delivers_the_stream_it_digests()
    {
        using var fifo = new SeededEntropyFifo(seed: 7);
        byte[] read = ReadFromFifo(fifo, 1 << 20);
        Assert.Equal(fifo.DigestOf(read.Length), Fnv(read));
        Assert.Equal(fifo.DigestOf(12345), Fnv(read.AsSpan(0, 12345)));
    }

    // Which of the stream's 16 KiB buffers a faulty path delivers instead of 0, 1, ..., 7.
    [Theory]
    [InlineData("lost", new[] { 0, 1, 2, 4, 5, 6, 7, 8 })]
    [InlineData("completed twice", new[] { 0, 1, 2, 3, 3, 4, 5, 6 })]
    [InlineData("reordered", new[] { 0, 1, 5, 3, 4, 2, 6, 7 })]
    public void A_buffer_lost_repeated_or_reordered_changes_the_digest(string fault, int[] order)
    {
        using var fifo = new SeededEntropyFifo(seed: 7);
        byte[] stream = ReadFromFifo(fifo, 9 * Buffer);
        byte[] delivered = order.SelectMany(i => stream.AsSpan(i * Buffer, Buffer).ToArray()).ToArray();
        Assert.True(fifo.DigestOf(delivered.Length) != Fnv(delivered), fault);
        Assert.Equal(fifo.DigestOf(delivered.Length), Fnv(stream.AsSpan(0, delivered.Length)));
    }

    // A real guest's digest checked against a stream it was not fed fails the check.
    [Fact]
    public async Task A_guest_fed_another_stream_fails_the_check()
    {
        using var fed = new SeededEntropyFifo(seed: 1);
        using var other = new SeededEntropyFifo(seed: 2);
        var run = await EntropyDeliveryTests.RunThroughBackend(fed, GuestOS.Runner.TargetArch.X86_64, "q35", 2, "rng.bytes=64K quiet");
        fed.AssertDelivered(run, 0, 64 * 1024);
        var e = Assert.ThrowsAny<XunitException>(() => other.AssertDelivered(run, 0, 64 * 1024));
        Assert.Contains("the guest's digest of its 65536 bytes is", e.Message);
    }

    private static byte[] ReadFromFifo(SeededEntropyFifo fifo, int bytes)
    {
        using var reader = File.OpenRead(fifo.Path);
        var data = new byte[bytes];
        reader.ReadExactly(data);
        return data;
    }

    private static ulong Fnv(ReadOnlySpan<byte> data) => SeededEntropyFifo.Fnv(SeededEntropyFifo.FnvOffsetBasis, data);
}
