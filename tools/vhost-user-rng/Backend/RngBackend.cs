// The whole backend: one event loop, one entropy source, and one endpoint per socket, each
// with its own share of the rate limit. Program.cs runs it; tests run it in-process.

using System;
using System.Collections.Generic;
using System.IO;
using VhostUserRng.Cli;
using VhostUserRng.Rng;

namespace VhostUserRng.Backend;

public sealed class RngBackend : IDisposable
{
    private readonly List<Endpoint> _endpoints = new();
    private readonly IEntropySource _source;

    public Log Log { get; }
    public EventLoop Loop { get; }
    public IReadOnlyList<Endpoint> Endpoints => _endpoints;

    /// <summary>Everything runs on <paramref name="clock"/> (monotonic nanoseconds): the rate
    /// limit, the loop's timers, reconnection. MonotonicClock unless a test injects its own.</summary>
    public RngBackend(Options options, TextWriter logWriter, Func<long>? clock = null)
    {
        Log = new Log(logWriter, options.Verbosity, options.LogTimestamps);
        Loop = new EventLoop(Log, clock);
        try
        {
            _source = options.RngSource is null
                ? new CsprngEntropySource()
                : new FileEntropySource(options.RngSource, text => Log.Warn("rng", text));
            Log.Info("vhost-user-rng", $"entropy from {_source.Name}; " + (options.MaxBytes is ulong max
                ? $"at most {options.BytesPerSocket} bytes per {options.PeriodMs} ms per socket ({max} in all)"
                : "no rate limit"));
            bool requireSealed = !options.AllowUnsealedMemory;
            if (options.Fd is int fd)
            {
                _endpoints.Add(Endpoint.FromFd(Loop, Log, NewDevice(options), requireSealed, fd, Stop));
            }
            else
            {
                foreach (string path in options.SocketPaths)
                    _endpoints.Add(options.Connect
                        ? Endpoint.Connect(Loop, Log, NewDevice(options), requireSealed, path)
                        : Endpoint.Listen(Loop, Log, NewDevice(options), requireSealed, path));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private RngDevice NewDevice(Options options)
    {
        TokenBucket? bucket = options.BytesPerSocket is ulong bytes
            ? new TokenBucket(bytes, options.PeriodMs * 1_000_000UL, Loop.NowNs())
            : null;
        return new RngDevice(_source, bucket, Loop.NowNs, options.BusyPollUs * 1000L);
    }

    /// <summary>Serves until <see cref="Stop"/> (or until an inherited connected fd closes).</summary>
    public void Run() => Loop.Run();

    /// <summary>Thread-safe; used by the SIGTERM/SIGINT handlers.</summary>
    public void Stop() => Loop.Stop();

    public void Dispose()
    {
        foreach (var endpoint in _endpoints) endpoint.Dispose();
        _endpoints.Clear();
        _source?.Dispose();
        Loop.Dispose();
    }
}
