using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GuestOS.Runner;

/// <summary>
/// The host-side vhost-user-rng backend (tools/vhost-user-rng) for one run: started on a private
/// socket before QEMU, contributing the QEMU arguments that connect a vhost-user-rng-pci device
/// to it, and stopped (its log kept) afterwards. In listen mode the backend owns the socket and
/// QEMU connects; in connect mode QEMU listens (server=on) and a restarted backend reconnects.
/// One process can serve several guests (-c N): socket i is the -s path with i appended.
/// </summary>
public sealed class VhostUserRngBackend : IAsyncDisposable
{
    private readonly string binary;
    private readonly IReadOnlyList<string> extraArguments;
    private readonly string directory;
    private readonly int socketCount;
    private readonly List<string> log = [];
    private Process? process;

    /// <summary>The socket of guest 0 (the backend appends the index to its -s path).</summary>
    public string SocketPath => SocketPathOf(0);

    /// <summary>The socket of guest <paramref name="index"/>, 0 .. socketCount - 1.</summary>
    public string SocketPathOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, socketCount);
        return Path.Combine(directory, "rng.sock" + index);
    }

    /// <summary>True when QEMU listens (chardev server=on) and the backend connects.</summary>
    public bool ConnectMode { get; }

    /// <summary>Everything the backend printed, in order, across restarts.</summary>
    public IReadOnlyList<string> Log { get { lock (log) return log.ToList(); } }

    private VhostUserRngBackend(string binary, IReadOnlyList<string> extraArguments, bool connectMode, int socketCount)
    {
        this.binary = binary;
        this.extraArguments = extraArguments;
        this.socketCount = socketCount;
        ConnectMode = connectMode;
        directory = Directory.CreateTempSubdirectory("guestos-vhost-").FullName;
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

    /// <summary>Starts the backend, serving <paramref name="socketCount"/> guests (its -c). In
    /// listen mode this returns once its sockets exist.</summary>
    public static async Task<VhostUserRngBackend> StartAsync(string binary, IReadOnlyList<string>? extraArguments = null,
                                                             bool connectMode = false, int socketCount = 1)
    {
        if (!File.Exists(binary)) throw new RunOptionsException($"vhost-user backend not found: {binary}");
        if (socketCount < 1) throw new RunOptionsException($"socketCount must be at least 1, not {socketCount}");
        var backend = new VhostUserRngBackend(binary, extraArguments ?? [], connectMode, socketCount);
        if (!connectMode) await backend.StartProcessAsync().ConfigureAwait(false);
        return backend;
    }

    /// <summary>
    /// The QEMU arguments for the device on socket 0 (RunOptions.SharedMemory must be on too: QEMU
    /// and the backend share guest RAM through a memfd). vectors=2: a config vector and a queue vector.
    /// </summary>
    public IReadOnlyList<string> QemuArguments => QemuArgumentsFor(0);

    /// <summary>
    /// The same for the guest on socket <paramref name="index"/> (one QEMU per socket). mmio: the
    /// device on a virtio-mmio transport (vhost-user-rng, microvm and virt) instead of PCI.
    /// </summary>
    public IReadOnlyList<string> QemuArgumentsFor(int index, bool mmio = false) =>
    [
        "-chardev", $"socket,id=vhost-rng,path={SocketPathOf(index)}{(ConnectMode ? ",server=on" : "")}",
        "-device", mmio ? "vhost-user-rng,chardev=vhost-rng" : "vhost-user-rng-pci,chardev=vhost-rng,vectors=2",
    ];

    /// <summary>Starts (or, after <see cref="KillAsync"/>, restarts) the backend process.</summary>
    public async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--socket-path");
        start.ArgumentList.Add(Path.Combine(directory, "rng.sock"));
        if (socketCount != 1) { start.ArgumentList.Add("--socket-count"); start.ArgumentList.Add(socketCount.ToString()); }
        if (ConnectMode) start.ArgumentList.Add("--connect");
        foreach (var a in extraArguments) start.ArgumentList.Add(a);
        process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + binary);
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (ConnectMode) return;
        string last = SocketPathOf(socketCount - 1);   // the backend binds them in order
        for (int i = 0; i < 200 && !File.Exists(last); i++)
        {
            if (process.HasExited) throw new InvalidOperationException("the vhost-user backend exited: " + string.Join('\n', Log));
            await Task.Delay(25).ConfigureAwait(false);
        }
        if (!File.Exists(last)) throw new TimeoutException($"the backend did not create {last} within 5 s");
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
