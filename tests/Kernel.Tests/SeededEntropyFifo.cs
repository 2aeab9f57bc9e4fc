using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// Entropy the host can check byte for byte. Our vhost-user backend reads a FIFO
// (--rng-source FIFO) that this class fills with a stream it can regenerate: chunk i is
// xoshiro256** seeded from (seed, i). The guest prints the FNV-1a digest of the bytes it read
// from the device (kernel/StreamDigest.cs); DigestOf(n) is the digest of the stream's first n
// bytes. The backend puts every byte it reads into a buffer, in order, and completes the
// buffer with exactly that many, so equal digests mean every byte reached the reader once and
// in order: a buffer lost, completed twice, reordered or short changes the digest.
// QEMU's built-in virtio-rng cannot be checked this way: its chr_read drops the rest of a
// backend request once the queue has no buffer left, and it asks for the same buffers again on
// every notification, so what reaches the guest is the stream with holes.
public sealed partial class SeededEntropyFifo : IDisposable
{
    public const int ChunkBytes = 64 * 1024;
    internal const ulong FnvOffsetBasis = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    private readonly ulong _seed;
    private readonly string _directory;
    private readonly int _fd;                       // O_RDWR: opening never blocks, and Dispose can drain
    private readonly Thread _writer;
    private readonly List<ulong> _digestBeforeChunk = [FnvOffsetBasis];
    private volatile bool _stop;

    public SeededEntropyFifo(ulong seed)
    {
        _seed = seed;
        _directory = Directory.CreateTempSubdirectory("guestos-entropy-").FullName;
        Path = System.IO.Path.Combine(_directory, "entropy.fifo");
        if (mkfifo(Path, 0x180 /* 0600 */) != 0) throw new IOException($"mkfifo {Path}: errno {Marshal.GetLastPInvokeError()}");
        _fd = open(Path, O_RDWR | O_CLOEXEC);
        if (_fd < 0) throw new IOException($"open {Path}: errno {Marshal.GetLastPInvokeError()}");
        _writer = new Thread(WriteStream) { IsBackground = true, Name = "entropy fifo" };
        _writer.Start();
    }

    public string Path { get; }

    // The backend's arguments that make it read this stream.
    public IReadOnlyList<string> BackendArguments => ["--rng-source", Path];

    // FNV-1a of the stream's first `bytes` bytes; they must all have been written.
    public ulong DigestOf(long bytes)
    {
        long chunk = bytes / ChunkBytes;
        ulong state;
        lock (_digestBeforeChunk)
        {
            if (chunk >= _digestBeforeChunk.Count) throw new ArgumentOutOfRangeException(nameof(bytes), $"only {(_digestBeforeChunk.Count - 1) * (long)ChunkBytes} bytes were written");
            state = _digestBeforeChunk[(int)chunk];
        }
        var data = new byte[ChunkBytes];
        Generate(chunk, data);
        return Fnv(state, data.AsSpan(0, (int)(bytes % ChunkBytes)));
    }

    // The guest's "entropy digest: virtio_rng.I N bytes fnv1a64 0x..." line for device I must
    // equal the digest of the first N bytes of this stream, and N must be what was asked.
    public void AssertDelivered(RunResult run, int device, long expectedBytes)
    {
        var line = run.Lines.SingleOrDefault(l => l.Text.StartsWith($"entropy digest: virtio_rng.{device} "))?.Text;
        Assert.True(line is not null, "no entropy digest line for virtio_rng." + device + "\n" + run.Report());
        var m = DigestLine().Match(line!);
        Assert.True(m.Success, line);
        long bytes = long.Parse(m.Groups[1].Value);
        if (expectedBytes >= 0) Assert.Equal(expectedBytes, bytes);
        Assert.True(DigestOf(bytes) == Convert.ToUInt64(m.Groups[2].Value, 16),
            $"virtio_rng.{device}: the guest's digest of its {bytes} bytes is {m.Groups[2].Value}, the host's of the bytes it fed the device 0x{DigestOf(bytes):x16}");
    }

    [GeneratedRegex(@"^entropy digest: virtio_rng\.\d+ (\d+) bytes fnv1a64 0x([0-9a-f]{16})$")]
    private static partial Regex DigestLine();

    private void WriteStream()
    {
        var data = new byte[ChunkBytes];
        for (long chunk = 0; !_stop; chunk++)
        {
            Generate(chunk, data);
            lock (_digestBeforeChunk) _digestBeforeChunk.Add(Fnv(_digestBeforeChunk[^1], data));
            for (int done = 0; done < data.Length && !_stop;)
            {
                long n = write(_fd, ref data[done], (nuint)(data.Length - done));
                if (n < 0) return;          // EAGAIN once Dispose made the FIFO non-blocking
                done += (int)n;
            }
        }
    }

    private void Generate(long chunk, byte[] data)
    {
        // xoshiro256** (Blackman and Vigna), its state from SplitMix64 of (seed, chunk).
        ulong sm = _seed ^ (ulong)chunk * 0x9E3779B97F4A7C15UL;
        ulong s0 = SplitMix(ref sm), s1 = SplitMix(ref sm), s2 = SplitMix(ref sm), s3 = SplitMix(ref sm);
        for (int i = 0; i < data.Length; i += 8)
        {
            ulong result = ulong.RotateLeft(s1 * 5, 7) * 9, t = s1 << 17;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = ulong.RotateLeft(s3, 45);
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(i), result);
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    internal static ulong Fnv(ulong state, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) { state ^= b; state *= FnvPrime; }
        return state;
    }

    // QEMU has gone: the writer may be blocked on a full FIFO. Drain it without blocking
    // until the writer sees the stop flag.
    public void Dispose()
    {
        _stop = true;
        fcntl(_fd, F_SETFL, O_RDWR | O_NONBLOCK);
        var sink = new byte[ChunkBytes];
        while (!_writer.Join(5)) read(_fd, ref sink[0], (nuint)sink.Length);
        close(_fd);
        Directory.Delete(_directory, recursive: true);
    }

    private const int O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, F_SETFL = 4;
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int mkfifo(string path, uint mode);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int open(string path, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial nint write(int fd, ref byte buffer, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, ref byte buffer, nuint count);
    [LibraryImport("libc")] private static partial int fcntl(int fd, int command, int argument);
    [LibraryImport("libc")] private static partial int close(int fd);
}
