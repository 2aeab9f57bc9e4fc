using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GuestOS.Runner;

/// <summary>
/// The host-side vhost-user-rng backend (tools/vhost-user-rng) for one run: started on a private
/// socket before QEMU, contributing the QEMU arguments that connect a vhost-user-rng-pci device
/// to it, and stopped (its log kept) afterwards. In listen mode the backend owns the socket and
/// QEMU connects; in connect mode QEMU listens (server=on) and a restarted backend reconnects.
/// </summary>
public sealed class VhostUserRngBackend : IAsyncDisposable
{
    private readonly string binary;
    private readonly IReadOnlyList<string> extraArguments;
    private readonly string directory;
    private readonly List<string> log = [];
    private Process? process;

    /// <summary>The socket QEMU's chardev uses (the backend appends index 0 to its -s path).</summary>
    public string SocketPath { get; }

    /// <summary>True when QEMU listens (chardev server=on) and the backend connects.</summary>
    public bool ConnectMode { get; }

    /// <summary>Everything the backend printed, in order, across restarts.</summary>
    public IReadOnlyList<string> Log { get { lock (log) return log.ToList(); } }

    private VhostUserRngBackend(string binary, IReadOnlyList<string> extraArguments, bool connectMode)
    {
        this.binary = binary;
        this.extraArguments = extraArguments;
        ConnectMode = connectMode;
        directory = Directory.CreateTempSubdirectory("guestos-vhost-").FullName;
        SocketPath = Path.Combine(directory, "rng.sock0");
    }

    /// <summary>CPU time the current backend process has used so far.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            try { process?.Refresh(); return process?.TotalProcessorTime ?? TimeSpan.Zero; }
            catch (InvalidOperationException) { return TimeSpan.Zero; }   // it has exited
        }
    }

    /// <summary>Starts the backend. In listen mode this returns once its socket exists.</summary>
    public static async Task<VhostUserRngBackend> StartAsync(string binary, IReadOnlyList<string>? extraArguments = null,
                                                             bool connectMode = false)
    {
        if (!File.Exists(binary)) throw new RunOptionsException($"vhost-user backend not found: {binary}");
        var backend = new VhostUserRngBackend(binary, extraArguments ?? [], connectMode);
        if (!connectMode) await backend.StartProcessAsync().ConfigureAwait(false);
        return backend;
    }

    /// <summary>
    /// The QEMU arguments for the device (RunOptions.SharedMemory must be on too: QEMU and the
    /// backend share guest RAM through a memfd). vectors=2: a config vector and a queue vector.
    /// </summary>
    public IReadOnlyList<string> QemuArguments =>
    [
        "-chardev", $"socket,id=vhost-rng,path={SocketPath}{(ConnectMode ? ",server=on" : "")}",
        "-device", "vhost-user-rng-pci,chardev=vhost-rng,vectors=2",
    ];

    /// <summary>Starts (or, after <see cref="KillAsync"/>, restarts) the backend process.</summary>
    public async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--socket-path");
        start.ArgumentList.Add(Path.Combine(directory, "rng.sock"));
        if (ConnectMode) start.ArgumentList.Add("--connect");
        foreach (var a in extraArguments) start.ArgumentList.Add(a);
        process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + binary);
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (ConnectMode) return;
        for (int i = 0; i < 200 && !File.Exists(SocketPath); i++)
        {
            if (process.HasExited) throw new InvalidOperationException("the vhost-user backend exited: " + string.Join('\n', Log));
            await Task.Delay(25).ConfigureAwait(false);
        }
        if (!File.Exists(SocketPath)) throw new TimeoutException($"the backend did not create {SocketPath} within 5 s");
    }

    /// <summary>Kills the backend abruptly (SIGKILL), as a crash would.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    private const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private void Keep(string? line)
    {
        if (line != null) lock (log) log.Add(line);
    }

    /// <summary>Stops the backend with SIGTERM (its clean exit path) and removes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            _ = kill(process.Id, SIGTERM);    // .NET's Process.Kill only sends SIGKILL
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await process.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { process.Kill(); }
        }
        process?.Dispose();
        process = null;                      // disposing twice is harmless
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }   // DirectoryNotFoundException is an IOException
    }
}
