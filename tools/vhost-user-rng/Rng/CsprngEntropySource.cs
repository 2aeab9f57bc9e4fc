// The default source: .NET's cryptographically secure generator (RandomNumberGenerator),
// seeded by the kernel. One call costs about a microsecond whatever its size, while the
// generator streams gigabytes per second in bulk, so bytes are drawn a pool at a time and
// handed out in order, each exactly once; a handed-out byte is wiped from the pool.

using System;
using System.Security.Cryptography;

namespace VhostUserRng.Rng;

public sealed class CsprngEntropySource : IEntropySource
{
    public const int PoolSize = 16 * 1024;

    private readonly byte[] _pool = new byte[PoolSize];
    private int _next = PoolSize;   // empty: the first Fill draws

    public string Name => "built-in CSPRNG (RandomNumberGenerator)";

    public int Fill(Span<byte> destination)
    {
        if (destination.Length >= PoolSize)
        {
            RandomNumberGenerator.Fill(destination);   // big requests skip the pool
            return destination.Length;
        }
        int written = 0;
        while (written < destination.Length)
        {
            if (_next == PoolSize)
            {
                RandomNumberGenerator.Fill(_pool);
                _next = 0;
            }
            int n = Math.Min(destination.Length - written, PoolSize - _next);
            var chunk = _pool.AsSpan(_next, n);
            chunk.CopyTo(destination[written..]);
            chunk.Clear();
            _next += n;
            written += n;
        }
        return written;
    }

    public void Dispose() => Array.Clear(_pool);
}
