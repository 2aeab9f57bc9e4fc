// The command line (vhost-device-rng compatible) and the program's behaviour as a process.

using System;
using System.IO;
using VhostUser.Tests.Frontend;
using VhostUserRng.Cli;
using VhostUserRng.Interop;
using Xunit;

namespace VhostUser.Tests;

public class CommandLineTests
{
    [Fact]
    public void VhostDeviceRngFlags_ParseLikeTheRustBackend()
    {
        var o = Options.Parse(new[] { "-s", "/run/rng.sock", "-c", "3", "-p", "1000", "-m", "3000", "-f", "/dev/urandom" });
        Assert.Equal(new[] { "/run/rng.sock0", "/run/rng.sock1", "/run/rng.sock2" }, o.SocketPaths);
        Assert.Equal(1000u, o.PeriodMs);
        Assert.Equal(1000UL, o.BytesPerSocket);
        Assert.Equal("/dev/urandom", o.RngSource);

        var l = Options.Parse(new[] { "--socket-path=/x", "--socket-count=2", "--period", "5", "--max-bytes=10", "--rng-source=/y", "-vv", "--connect" });
        Assert.Equal(new[] { "/x0", "/x1" }, l.SocketPaths);
        Assert.Equal(5u, l.PeriodMs);
        Assert.Equal(5UL, l.BytesPerSocket);
        Assert.Equal(2, l.Verbosity);
        Assert.True(l.Connect);
    }

    [Fact]
    public void Defaults_AreTheReferenceOnes()
    {
        var o = Options.Parse(new[] { "-s", "/s" });
        Assert.Equal(new[] { "/s0" }, o.SocketPaths);
        Assert.Equal(65536u, o.PeriodMs);
        Assert.Null(o.MaxBytes);
        Assert.Null(o.RngSource);   // the built-in CSPRNG
        Assert.Equal(0, o.Verbosity);
        Assert.Equal(200u, o.BusyPollUs);
        Assert.Equal(0u, Options.Parse(new[] { "-s", "/s", "--busy-poll-us", "0" }).BusyPollUs);   // kicks asked for at once
    }

    [Theory]
    [InlineData("a socket is needed")]
    [InlineData("--socket-path and --fd are mutually exclusive", "-s", "/s", "--fd", "3")]
    [InlineData("--fd serves one socket", "--fd", "3", "-c", "2")]
    [InlineData("--connect needs --socket-path", "--fd", "3", "--connect")]
    [InlineData("-p '0' is not a number from 1 to 65536", "-s", "/s", "-p", "0")]
    [InlineData("--period '65537' is not a number from 1 to 65536", "-s", "/s", "--period", "65537")]
    [InlineData("-c 'two' is not a number", "-s", "/s", "-c", "two")]
    [InlineData("-m '0' is not a number from 1", "-s", "/s", "-m", "0")]
    [InlineData("--max-bytes 2 split across 3 sockets leaves less than one byte per socket", "-s", "/s", "-c", "3", "--max-bytes", "2")]
    [InlineData("--busy-poll-us '1000001' is not a number from 0 to 1000000", "-s", "/s", "--busy-poll-us", "1000001")]
    [InlineData("unknown option '--bogus'", "-s", "/s", "--bogus")]
    [InlineData("-s needs a value", "-s")]
    public void BadCommandLines_AreRejectedWithAClearMessage(string expected, params string[] args)
    {
        var e = Assert.Throws<OptionsException>(() => Options.Parse(args));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void PrintCapabilities_PrintsTheJsonAndIgnoresEverythingElse()
    {
        using var p = new BackendProcess("--print-capabilities", "--bogus", "-c", "nonsense");
        string stdout = p.ReadStdoutToEnd();
        Assert.Equal(0, p.WaitForExit());
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal("rng", json.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public void ABadCommandLine_ExitsEarlyWithStatus2()
    {
        using var p = new BackendProcess("-s", "/tmp/x", "-p", "0");
        Assert.Equal(2, p.WaitForExit());
        Assert.Contains("-p '0' is not a number from 1 to 65536", p.Stderr);
    }

    [Fact]
    public void ASocketThatCannotBeCreated_ExitsWithStatus1()
    {
        using var p = new BackendProcess("-s", "/nonexistent-dir/rng.sock");
        Assert.Equal(1, p.WaitForExit());
        Assert.Contains("cannot listen on /nonexistent-dir/rng.sock0", p.Stderr);
    }

    [Theory]
    [InlineData(Libc.SIGTERM)]
    [InlineData(Libc.SIGINT)]
    public void ASignal_EndsTheBackendCleanly_WithAGuestConnected(int signal)
    {
        string dir = Path.Combine(Path.GetTempPath(), "vut-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        try
        {
            using var p = new BackendProcess("-s", Path.Combine(dir, "rng.sock"), "-c", "2");
            using var guest = new TestGuest(Path.Combine(dir, "rng.sock1"));
            guest.Start();
            Assert.Equal(32u, guest.PostAndWait(TestGuest.BufferArea, 32).Len);

            Assert.Equal(0, Libc.kill(p.Process.Id, signal));

            Assert.Equal(0, p.WaitForExit());
            Assert.True(guest.Frontend.WaitForClose());
            Assert.False(File.Exists(Path.Combine(dir, "rng.sock0")), "socket files are removed on exit");
            Assert.False(File.Exists(Path.Combine(dir, "rng.sock1")));
            Assert.Contains("exiting", p.Stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // make trace merges this log with QEMU's trace by wall-clock time: every line must carry it,
    // and each fill its byte count.
    [Fact]
    public void LogTimestamps_StampEveryLineWithWallClockTime_AndFillsCarryTheirBytes()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vut-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        try
        {
            double before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            string stderr;
            using (var p = new BackendProcess("-s", Path.Combine(dir, "rng.sock"), "-vv", "--log-timestamps"))
            {
                using var guest = new TestGuest(Path.Combine(dir, "rng.sock0"));
                guest.Start();
                Assert.Equal(32u, guest.PostAndWait(TestGuest.BufferArea, 32).Len);
                Assert.Equal(0, Libc.kill(p.Process.Id, Libc.SIGTERM));
                Assert.Equal(0, p.WaitForExit());
                stderr = p.Stderr;
            }
            double after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                var m = System.Text.RegularExpressions.Regex.Match(line, @"^(\d+\.\d{6}) \S");
                Assert.True(m.Success, $"no timestamp on: {line}");
                double at = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(at, before - 1, after + 1);
            }
            Assert.Contains(lines, l => l.Contains("vring 0: 1 buffer(s) filled (32 bytes)"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void AStaleSocketFile_IsReplaced_ButALiveOneIsNot()
    {
        using var backend = new BackendHarness();
        // A second backend on the same path must refuse: the first is alive.
        var e = Assert.Throws<InvalidOperationException>(() => new BackendHarness("-s", backend.SocketBase));
        Assert.Contains("another process is listening on it", e.Message);

        // A socket file left behind by a dead process is taken over.
        string stale = Path.Combine(backend.Dir, "stale.sock0");
        int fd = UnixSocket.Listen(stale);
        Libc.close(fd);   // the file stays, nobody listens
        using var second = new BackendHarness("-s", Path.Combine(backend.Dir, "stale.sock"));
        using var guest = new TestGuest(stale);
        guest.Start();
        Assert.Equal(8u, guest.PostAndWait(TestGuest.BufferArea, 8).Len);
    }
}
