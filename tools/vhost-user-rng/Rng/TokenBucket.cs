// --max-bytes per --period as a token bucket: it holds at most one period's worth of bytes and
// refills continuously at max-bytes per period. Callers ask how many bytes they may use now,
// and when enough will be there; nobody ever sleeps (the event loop arms a timer).

using System;

namespace VhostUserRng.Rng;

public sealed class TokenBucket
{
    private readonly ulong _capacity;     // bytes per period
    private readonly ulong _periodNs;
    private ulong _tokens;
    private ulong _remainder;              // sub-byte refill carried over, in byte*ns units
    private long _lastNs;

    public TokenBucket(ulong bytesPerPeriod, ulong periodNs, long nowNs)
    {
        if (bytesPerPeriod == 0) throw new ArgumentOutOfRangeException(nameof(bytesPerPeriod), "a bucket must allow at least one byte per period");
        if (periodNs == 0) throw new ArgumentOutOfRangeException(nameof(periodNs));
        _capacity = bytesPerPeriod;
        _periodNs = periodNs;
        _tokens = bytesPerPeriod;          // a fresh bucket starts full
        _lastNs = nowNs;
    }

    public ulong Capacity => _capacity;

    /// <summary>Bytes that may be used at <paramref name="nowNs"/>.</summary>
    public ulong Available(long nowNs)
    {
        Refill(nowNs);
        return _tokens;
    }

    public void Consume(ulong bytes)
    {
        if (bytes > _tokens) throw new InvalidOperationException($"consuming {bytes} bytes with only {_tokens} available");
        _tokens -= bytes;
    }

    /// <summary>Nanoseconds from <paramref name="nowNs"/> until at least <paramref name="bytes"/>
    /// (at most the capacity) are available; 0 if they are.</summary>
    public long NanosecondsUntilAvailable(long nowNs, ulong bytes = 1)
    {
        Refill(nowNs);
        bytes = Math.Min(bytes, _capacity);
        if (_tokens >= bytes) return 0;
        // Need (bytes - tokens) * period - remainder more byte*ns, accruing at `capacity` per ns.
        UInt128 missing = (UInt128)(bytes - _tokens) * _periodNs - _remainder;
        UInt128 ns = (missing + _capacity - 1) / _capacity;
        return ns > long.MaxValue ? long.MaxValue : (long)ns;
    }

    private void Refill(long nowNs)
    {
        if (nowNs <= _lastNs) return;
        ulong elapsed = (ulong)(nowNs - _lastNs);
        _lastNs = nowNs;
        if (elapsed >= _periodNs) { _tokens = _capacity; _remainder = 0; return; }
        UInt128 accrued = (UInt128)elapsed * _capacity + _remainder;
        ulong whole = (ulong)(accrued / _periodNs);
        _remainder = (ulong)(accrued % _periodNs);
        if (whole >= _capacity - _tokens) { _tokens = _capacity; _remainder = 0; }
        else _tokens += whole;
    }
}
