// The entropy device (virtio 1.2, 5.4): one queue of device-writable buffers, each of which
// the device fills with at least one random byte (5.4.6.2). This class serves one ring until
// it is empty, the rate limit is reached, or the entropy source runs dry.
//
// Busy polling (Linux's vhost busyloop_timeout): a ring that was just served is likely to get
// its next buffer within tens of microseconds (the guest re-posts each buffer as soon as it
// has copied it out). Asking for a kick then costs the guest a trapped MMIO write and an
// eventfd write, and us a wake-up, per buffer. So an emptied ring keeps kicks off for
// BusyPollNs: the pass ends as if deferred, the event loop runs everything else that is
// pending and calls again, and only when the ring has stayed empty that long are kicks
// re-enabled (with the re-check that closes the race, 2.7.10). A rate-limited ring is not
// polled: its budget, not kicks, sets its pace, and its timer serves it when the budget allows.

using System;
using VhostUserRng.Memory;
using VhostUserRng.Virtio;

namespace VhostUserRng.Rng;

public sealed unsafe class RngDevice
{
    /// <summary>Most bytes put into one buffer (5.4.6.2 lets the device use less than the whole
    /// buffer; a descriptor may describe up to 4 GiB). One fill runs to completion on the event
    /// loop's only thread, so this bounds how long one buffer holds up every other guest: about
    /// a quarter of a millisecond at the CSPRNG's bulk rate. It is the size of the largest buffer
    /// GuestOS posts (drivers/rng/VirtioRng.cs MaxBufferSize), so it never shortens our own
    /// guest's buffers: a 64 KiB cap did, and 4 x 1 MiB buffers then moved 256 KiB per round
    /// trip, slower than 4 x 256 KiB.</summary>
    public const ulong MaxBytesPerChain = 1 << 20;

    /// <summary>Chains served per pass before yielding to the event loop (fairness between
    /// guests; bounds the per-chain work when chains are tiny).</summary>
    public const int MaxChainsPerPass = 256;

    /// <summary>Bytes served per pass before yielding to the event loop (fairness between guests
    /// when chains are large): a pass writes at most this plus one chain, about 1-1.5 ms of
    /// filling, then the other guests' kicks and messages run before this ring is served again.</summary>
    public const ulong MaxBytesPerPass = 4 << 20;

    /// <summary>A rate-limited ring waits until this many bytes (or the whole per-period budget,
    /// if smaller) are available, so a throttled guest receives useful chunks rather than a
    /// trickle of one-byte buffers, each costing it an interrupt. Linux asks for 64 at a time.</summary>
    public const ulong MinRateLimitedChunk = 64;

    /// <summary>How long to wait before asking a dry entropy source again.</summary>
    public const long SourceRetryNs = 10_000_000;

    /// <summary>The default busy-poll time: longer than the guest takes to copy out one
    /// default buffer under TCG (256 KiB at 2-5 GB/s, 50-130 us), so a guest reading flat out
    /// is served without kicks; short against a pass (MaxBytesPerPass, about 1 ms).</summary>
    public const long DefaultBusyPollNs = 200_000;

    private readonly IEntropySource _source;
    private readonly TokenBucket? _bucket;
    private readonly Func<long> _clock;

    /// <summary><paramref name="busyPollNs"/>: how long an emptied ring is polled before kicks
    /// are re-enabled; 0 re-enables them at once. Ignored with a rate limit.</summary>
    public RngDevice(IEntropySource source, TokenBucket? bucket, Func<long> clock, long busyPollNs = 0)
    {
        _source = source;
        _bucket = bucket;
        _clock = clock;
        BusyPollNs = bucket is null ? busyPollNs : 0;
    }

    /// <summary>How long an emptied ring is polled before kicks are re-enabled.</summary>
    public long BusyPollNs { get; }

    /// <summary>Looks at avail->idx in place before handing a polled ring back to the event
    /// loop: a few microseconds, so another guest's kick waits no longer than that (plus a pass).</summary>
    public const int PollSpinsInPlace = 256;

    /// <summary>Now, on the clock the rate limit follows.</summary>
    public long NowNs() => _clock();

    /// <summary>The outcome of one pass over a ring. <see cref="Polling"/>: the ring is empty
    /// but kicks are still off; call again at <see cref="RetryAtNs"/> (now) to poll it.</summary>
    public readonly record struct ServeResult(int Completed, bool Notify, long RetryAtNs, ulong Bytes = 0, bool Polling = false)
    {
        /// <summary>No retry needed: the ring is empty and a kick will wake us.</summary>
        public const long NoRetry = long.MaxValue;
    }

    /// <summary>
    /// Serves available buffers of <paramref name="ring"/>. Throws <see cref="VirtqueueException"/>
    /// for a guest error, after publishing what was already completed (so that used->idx and the
    /// next avail index reported by GET_VRING_BASE agree).
    /// </summary>
    public ServeResult Serve(SplitRing ring, GuestMemory memory, DescriptorChain chain)
    {
        int completed = 0, unpublished = 0;
        ulong bytes = 0;
        bool notify = false;
        long retryAt = ServeResult.NoRetry;
        bool polling = false;
        try
        {
            while (true)
            {
                while (ring.HasAvailable())
                {
                    if (completed == MaxChainsPerPass || bytes >= MaxBytesPerPass) { retryAt = _clock(); break; }
                    ulong budget = MaxBytesPerChain;
                    if (_bucket is not null)
                    {
                        long now = _clock();
                        ulong chunk = Math.Min(MinRateLimitedChunk, _bucket.Capacity);
                        ulong available = _bucket.Available(now);
                        // Never complete a buffer with zero bytes (nor a trickle): leave it
                        // queued and come back when a chunk has accrued.
                        if (available < chunk) { retryAt = now + _bucket.NanosecondsUntilAvailable(now, chunk); break; }
                        budget = Math.Min(budget, available);
                    }

                    ushort head = ring.PeekHead();
                    ring.ReadChain(head, chain, budget);
                    if (chain.ReadableDescriptors > 0)
                        throw new VirtqueueException($"chain from head {head}: descriptor {chain.FirstReadablePosition} of the chain is device-readable; an entropy device only fills device-writable buffers (5.4.6)");
                    if (chain.WritableBytes == 0)
                        throw new VirtqueueException($"chain from head {head} has no writable bytes, but the device must return at least one (5.4.6.2)");

                    uint written = FillSegments(memory, chain, budget);
                    if (written == 0) { retryAt = _clock() + SourceRetryNs; break; }
                    _bucket?.Consume(written);
                    ring.AddUsed(head, written);
                    completed++;
                    bytes += written;
                    unpublished++;
                }
                if (unpublished > 0)
                {
                    ring.PublishUsed();
                    unpublished = 0;
                    notify |= ring.ShouldNotify();
                }
                if (retryAt != ServeResult.NoRetry) break;
                if (BusyPollNs > 0)
                {
                    // Empty. Served something: poll for BusyPollNs from now. Served nothing
                    // (a poll): keep polling until the deadline, then ask for kicks.
                    long now = _clock();
                    if (completed > 0) ring.PollUntilNs = now + BusyPollNs;
                    if (now < ring.PollUntilNs)
                    {
                        // Look again in place for a few microseconds (a look is one load; a
                        // turn of the loop is two system calls), unless a notification is
                        // due: the guest may be about to sleep on it.
                        if (!notify && ring.SpinForAvailable(PollSpinsInPlace)) continue;
                        ring.DisableKicks();
                        retryAt = now; polling = true; break;
                    }
                }
                if (!ring.EnableKickAndRecheck()) break;
            }
        }
        catch (VirtqueueException)
        {
            if (unpublished > 0) ring.PublishUsed();
            throw;
        }
        return new ServeResult(completed, notify, retryAt, bytes, polling);
    }

    /// <summary>Writes entropy into the collected segments, in chain order, at most <paramref name="limit"/>
    /// bytes. A segment may cross from one memory region into the adjacent one.</summary>
    private uint FillSegments(GuestMemory memory, DescriptorChain chain, ulong limit)
    {
        ulong written = 0;
        for (int i = 0; i < chain.SegmentCount && written < limit; i++)
        {
            ulong gpa = chain.SegmentAddr(i);
            ulong remaining = Math.Min(chain.SegmentLength(i), limit - written);
            while (remaining > 0)
            {
                // Validated by ReadChain; the memory table cannot change while we run.
                byte* host = memory.TranslateGuest(gpa, remaining, out ulong run);
                int n = _source.Fill(new Span<byte>(host, (int)run));
                written += (ulong)n;
                if ((ulong)n < run) return (uint)written;   // the source ran dry
                gpa += run;
                remaining -= run;
            }
        }
        return (uint)written;
    }
}
