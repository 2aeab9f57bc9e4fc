// Where the random bytes come from.

using System;

namespace VhostUserRng.Rng;

public interface IEntropySource : IDisposable
{
    /// <summary>Human-readable name for logs.</summary>
    string Name { get; }

    /// <summary>Fills up to <paramref name="destination"/>.Length bytes without blocking and returns
    /// how many were written; 0 means none are available now (try again later).</summary>
    int Fill(Span<byte> destination);
}
