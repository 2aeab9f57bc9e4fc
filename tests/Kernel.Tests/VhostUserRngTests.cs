using System.Text.RegularExpressions;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The whole path in C#: the GuestOS driver -> QEMU's vhost-user-rng-pci -> our backend
// (tools/vhost-user-rng, the NativeAOT build `make test` publishes) -> the guest's interrupt.
public class VhostUserRngTests
{
    [Theory]
    [InlineData(TargetArch.X86_64, "q35")]
    [InlineData(TargetArch.Aarch64, "virt")]
    public async Task The_guest_reads_a_MiB_through_the_backend(TargetArch arch, string machine)
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath);
        var run = await QemuRunner.RunAsync(Kernels.WithBackend(arch, machine, backend, "rng.bytes=1M quiet"));
        await backend.DisposeAsync();
        Assert.True(run.Passed, run.Report() + LogOf(backend));
        Assert.True(run.Printed("entropy: read 1048576 bytes from 1 device(s)"), run.Report());
        Assert.Contains(backend.Log, l => l.Contains("frontend connected"));
    }

    // QEMU listens (server=on) and the backend connects; the backend is killed while the guest
    // is reading (rate limited, so it is mid-way), and a new one resumes the service.
    [Fact]
    public async Task A_killed_backend_restarted_in_connect_mode_resumes_service()
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath, ["--period", "100", "--max-bytes", "32768"], connectMode: true);
        var readingStarted = new TaskCompletionSource();
        var options = Kernels.WithBackend(TargetArch.X86_64, "q35", backend, "rng.bytes=512K") with
        {
            OnConsoleLine = line => { if (line.Text.Contains("first completion")) readingStarted.TrySetResult(); },
        };
        var run = await RunKillingTheBackendOnceAsync(backend, options, guest => readingStarted.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        await backend.DisposeAsync();

        Assert.True(run.Passed, run.Report() + LogOf(backend));
        Assert.Equal(2, backend.Log.Count(l => l.Contains("connected")));
    }

    // Under load: the guest reads as fast as it can (soak mode, which fails the guest itself if
    // a buffer is lost or completed twice, and the ring refuses a used id that is not
    // outstanding) and the backend is killed after it has filled 200 batches, then restarted.
    // QEMU resumes the ring from its used index (the new backend gets SET_VRING_BASE), so the
    // guest carries on without noticing: no reset, nothing lost, nothing twice.
    [Fact]
    public async Task A_backend_killed_under_load_and_restarted_loses_and_duplicates_no_buffer()
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath, ["-vv"], connectMode: true);
        var run = await RunKillingTheBackendOnceAsync(backend, Kernels.WithBackend(TargetArch.X86_64, "q35", backend, "rng.seconds=6 quiet"),
            guest => WaitForAsync(() => backend.Log.Count(l => l.Contains(" buffer(s) filled ")) >= 200, "200 batches filled", guest));
        await backend.DisposeAsync();

        Assert.True(run.Passed, run.Report() + LogOf(backend));
        Assert.True(run.Printed(" in flight, 0 buffers unaccounted for"), run.Report());
        Assert.True(run.Printed(" 0 resets; "), run.Report());
        Assert.Equal(2, backend.Log.Count(l => l.Contains("frontend connected")));
        Assert.Contains(backend.Log.SkipWhile(l => !l.Contains("frontend connected")).Skip(1), l => l.Contains(" buffer(s) filled "));
    }

    // QEMU listens (server=on); the backend connects, is killed once `beforeKill` completes,
    // and a new one connects once QEMU has closed its end of the dead connection.
    private static async Task<RunResult> RunKillingTheBackendOnceAsync(VhostUserRngBackend backend, RunOptions options,
                                                                       Func<Task<RunResult>, Task> beforeKill)
    {
        using var stopGuest = new CancellationTokenSource();
        var guest = QemuRunner.RunAsync(options, stopGuest.Token);
        try
        {
            await WaitForAsync(() => SocketsAt(backend.SocketPath).Listening, "QEMU listening on " + backend.SocketPath, guest);
            await backend.StartProcessAsync();
            await beforeKill(guest);
            await backend.KillAsync();
            await WaitForAsync(() => SocketsAt(backend.SocketPath) is { Listening: true, Connected: 0 },
                               "QEMU closing its end of the killed backend's connection", guest);
            await backend.StartProcessAsync();
            return await guest;
        }
        finally
        {
            // A failed wait leaves QEMU waiting for a backend: kill it (cancelling does).
            if (!guest.IsCompleted)
            {
                stopGuest.Cancel();
                try { await guest; } catch (OperationCanceledException) { }
            }
        }
    }

    /// <summary>
    /// What the kernel's table of Unix sockets (/proc/net/unix) says about <paramref name="path"/>:
    /// whether a socket listens there (flag __SO_ACCEPTCON, 0x10000) and how many accepted
    /// connections on it are still open on the listener's side (state SS_CONNECTED, 03). Looking
    /// does not connect, so QEMU's chardev does not take the look for a backend.
    /// </summary>
    private static (bool Listening, int Connected) SocketsAt(string path)
    {
        bool listening = false;
        int connected = 0;
        // "Num RefCount Protocol Flags Type St Inode Path"
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            if (!line.EndsWith(" " + path, StringComparison.Ordinal)) continue;
            string[] field = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if ((Convert.ToUInt32(field[3], 16) & 0x10000) != 0) listening = true;
            else if (field[5] == "03") connected++;
        }
        return (listening, connected);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, looking every 10 ms, for at most
    /// 60 s; fails at once, with QEMU's report, if the guest's run ends first.</summary>
    private static async Task WaitForAsync(Func<bool> condition, string what, Task<RunResult> guest)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (guest.IsCompleted) Assert.Fail($"QEMU ended before {what}:\n{(await guest).Report()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) Assert.Fail($"no {what} within 60 s");
            await Task.Delay(10);
        }
    }

    private static string LogOf(VhostUserRngBackend backend) => "\nbackend log:\n" + string.Join('\n', backend.Log);
}
