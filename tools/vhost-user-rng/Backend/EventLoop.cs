// One thread, one epoll instance, every socket, kick fd and timer of every guest. Handlers
// run to completion and never block (sockets and sources are non-blocking, the rate limiter
// arms a timer instead of sleeping), so one guest cannot stall another.

using System;
using System.Collections.Generic;
using VhostUserRng.Interop;
using VhostUserRng.Rng;

namespace VhostUserRng.Backend;

public sealed class EventLoop : IDisposable
{
    private readonly Epoll _epoll = new();
    private readonly Dictionary<ulong, Action> _handlers = new();
    private readonly List<LoopTimer> _timers = new();
    private readonly List<LoopTimer> _dueScratch = new();
    private readonly int _stopFd;
    private readonly Log _log;
    private readonly Func<long> _clock;
    private ulong _nextToken = 1;
    private volatile bool _stopping;

    private const ulong StopToken = 0;

    /// <summary>Timers follow <paramref name="clock"/> (monotonic nanoseconds; MonotonicClock
    /// unless a test injects its own).</summary>
    public EventLoop(Log log, Func<long>? clock = null)
    {
        _log = log;
        _clock = clock ?? MonotonicClock.NowNs;
        _stopFd = EventFd.Create();
        if (_epoll.Add(_stopFd, StopToken) != 0) throw new InvalidOperationException("epoll_ctl on the stop eventfd failed");
    }

    /// <summary>Calls <paramref name="onReadable"/> whenever <paramref name="fd"/> is readable (or hung up).
    /// Returns a token for <see cref="Unwatch"/>, or 0 with <paramref name="errno"/> set.</summary>
    public ulong Watch(int fd, Action onReadable, out int errno)
    {
        ulong token = _nextToken++;
        errno = _epoll.Add(fd, token);
        if (errno != 0) return 0;
        _handlers[token] = onReadable;
        return token;
    }

    public void Unwatch(int fd, ulong token)
    {
        if (token == 0) return;
        _handlers.Remove(token);
        _epoll.Remove(fd);
    }

    /// <summary>Now, on the clock the timers follow.</summary>
    public long NowNs() => _clock();

    public LoopTimer CreateTimer(Action callback)
    {
        var timer = new LoopTimer(callback);
        _timers.Add(timer);
        return timer;
    }

    public void DestroyTimer(LoopTimer timer) => _timers.Remove(timer);

    /// <summary>Runs until <see cref="Stop"/>.</summary>
    public void Run()
    {
        while (!_stopping)
        {
            int timeoutMs = MillisecondsUntilNextTimer();
            int n = _epoll.Wait(timeoutMs);
            // A timer due at once with nothing else pending is a ring being busy-polled: let
            // any thread waiting for this CPU run first (QEMU's vCPU or main loop, on a small
            // host), as Linux's vhost stops polling on need_resched().
            if (n == 0 && timeoutMs == 0) Libc.sched_yield();
            for (int i = 0; i < n && !_stopping; i++)
            {
                ulong token = _epoll.TokenAt(i);
                if (token == StopToken) { _stopping = true; break; }
                // A handler earlier in this batch may have unwatched this one.
                if (_handlers.TryGetValue(token, out var handler)) Invoke(handler);
            }
            RunDueTimers();
        }
    }

    /// <summary>Asks the loop to return; safe from any thread, including a signal handler's.</summary>
    public void Stop()
    {
        _stopping = true;
        EventFd.Signal(_stopFd);
    }

    private int MillisecondsUntilNextTimer()
    {
        long due = long.MaxValue;
        foreach (var t in _timers) due = Math.Min(due, t.DueNs);
        if (due == long.MaxValue) return -1;
        long wait = due - _clock();
        if (wait <= 0) return 0;
        return (int)Math.Min(int.MaxValue, (wait + 999_999) / 1_000_000);   // round up: never wake early and spin
    }

    private void RunDueTimers()
    {
        long now = _clock();
        bool anyDue = false;
        foreach (var t in _timers) anyDue |= t.DueNs <= now;
        if (!anyDue) return;
        // Callbacks may create or destroy timers, so walk a copy; a reused one, since a ring
        // being busy-polled comes through here on every turn of the loop.
        _dueScratch.Clear();
        foreach (var t in _timers) if (t.DueNs <= now) _dueScratch.Add(t);
        foreach (var timer in _dueScratch)
        {
            if (timer.DueNs > now) continue;   // re-armed or cancelled by an earlier callback
            timer.Cancel();
            Invoke(timer.Callback);
        }
    }

    private void Invoke(Action action)
    {
        try { action(); }
        catch (Exception e)
        {
            // Handlers contain their own errors; reaching here is a bug, but it must not take
            // the other guests down with it.
            _log.Error("event loop", $"unexpected {e.GetType().Name}: {e.Message}");
        }
    }

    public void Dispose()
    {
        _epoll.Dispose();
        Libc.close(_stopFd);
    }
}

/// <summary>A one-shot deadline on the loop's monotonic clock.</summary>
public sealed class LoopTimer
{
    internal LoopTimer(Action callback) => Callback = callback;

    internal Action Callback { get; }

    public long DueNs { get; private set; } = long.MaxValue;

    public bool Armed => DueNs != long.MaxValue;

    /// <summary>Arms the timer for <paramref name="dueNs"/>, keeping an earlier deadline if one is set.</summary>
    public void ArmNoLaterThan(long dueNs) => DueNs = Math.Min(DueNs, dueNs);

    public void Cancel() => DueNs = long.MaxValue;
}
