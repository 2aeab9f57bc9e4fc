// The backend running in-process on its own thread, started from a real command line, with its
// log captured so tests can check what it said.

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using VhostUserRng.Backend;
using VhostUserRng.Cli;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed class BackendHarness : IDisposable
{
    private readonly Thread _thread;
    private Exception? _crash;

    public string Dir { get; }
    public string SocketBase { get; }
    public RngBackend Backend { get; }
    public CapturedLog Log { get; } = new();

    /// <summary>Starts the backend with "-s DIR/rng.sock" (unless --fd is given) followed by <paramref name="args"/>.</summary>
    public BackendHarness(params string[] args) : this(null, args) { }

    /// <summary>The same, with the backend's clock (rate limit, timers) being <paramref name="clock"/>.</summary>
    public BackendHarness(FakeClock? clock, params string[] args)
    {
        Dir = Path.Combine(Path.GetTempPath(), "vut-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Dir);
        SocketBase = Path.Combine(Dir, "rng.sock");
        var argv = new List<string>();
        if (Array.IndexOf(args, "--fd") < 0) argv.AddRange(new[] { "-s", SocketBase });
        foreach (string a in args)
        {
            // "{entropy}" names a --rng-source file of known bytes (see EntropyFile), 1 MiB or,
            // with "{entropy:N}", N bytes long.
            if (a == "{entropy}") argv.Add(EntropyFile.Create(Dir));
            else if (a.StartsWith("{entropy:", StringComparison.Ordinal)) argv.Add(EntropyFile.Create(Dir, int.Parse(a[9..^1])));
            else argv.Add(a.Replace("{dir}", Dir));
        }
        try
        {
            Backend = new RngBackend(Options.Parse(argv), Log, clock is null ? null : clock.NowNs);
        }
        catch
        {
            Directory.Delete(Dir, recursive: true);
            throw;
        }
        _thread = new Thread(() =>
        {
            try { Backend.Run(); }
            catch (Exception e) { _crash = e; }
        }) { IsBackground = true, Name = "vhost-user-rng event loop" };
        _thread.Start();
    }

    public string Socket(int index) => SocketBase + index;

    /// <summary>Ring <paramref name="ring"/> of the frontend connected to socket <paramref name="socket"/>,
    /// as the backend sees it. Read it after a round trip (TestFrontend.Sync): the event loop has
    /// then handled every earlier message and is waiting for the next.</summary>
    public Vring Ring(int socket = 0, int ring = 0) =>
        (Backend.Endpoints[socket].Connection ?? throw new InvalidOperationException($"no frontend on socket {socket}")).Session.RingState(ring);

    /// <summary>The event loop thread is still serving (nothing escaped it).</summary>
    public bool IsRunning => _thread.IsAlive && _crash is null;

    public void AssertAlive()
    {
        Assert.Null(_crash);
        Assert.True(_thread.IsAlive, "the backend's event loop has stopped");
    }

    public void Dispose()
    {
        Backend.Stop();
        Assert.True(_thread.Join(5000), "the event loop did not stop");
        Backend.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        Assert.Null(_crash);
    }
}

/// <summary>A TextWriter that keeps complete lines and lets tests wait for one.</summary>
public sealed class CapturedLog : TextWriter
{
    private readonly List<string> _lines = new();
    private readonly StringBuilder _current = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lines)
        {
            if (value == '\n') { _lines.Add(_current.ToString()); _current.Clear(); }
            else _current.Append(value);
        }
    }

    public string[] Lines
    {
        get { lock (_lines) return _lines.ToArray(); }
    }

    public bool Contains(string text) => Array.Exists(Lines, l => l.Contains(text, StringComparison.Ordinal));

    public int Count(string text) => Array.FindAll(Lines, l => l.Contains(text, StringComparison.Ordinal)).Length;

    public bool WaitFor(string text, int timeoutMs = Wait.DefaultTimeoutMs) => Wait.Until(() => Contains(text), timeoutMs);

    public void AssertContains(string text, int timeoutMs = Wait.DefaultTimeoutMs) =>
        Assert.True(WaitFor(text, timeoutMs), $"log has no line containing \"{text}\":\n{string.Join("\n", Lines)}");

    public override string ToString() => string.Join("\n", Lines);
}
