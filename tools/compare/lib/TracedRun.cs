using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>Which entropy device the guest gets; both guests get the same one.</summary>
public enum RngKind
{
    /// <summary>QEMU's virtio-rng-pci fed by /dev/urandom.</summary>
    Builtin,
    /// <summary>vhost-user-rng-pci served by tools/vhost-user-rng.</summary>
    VhostUser,
    /// <summary>QEMU's virtio-rng-device on a virtio-mmio transport (aarch64 virt), fed by /dev/urandom.</summary>
    BuiltinMmio,
}

/// <summary>
/// Boots one guest with the entropy device and QEMU tracing on, and with vhost-user the backend
/// logging every message and ring event with wall-clock timestamps.
/// </summary>
public static class TracedRun
{
    public static RngKind ParseRng(string text) => text switch
    {
        "builtin" => RngKind.Builtin,
        "vhost-user" => RngKind.VhostUser,
        "builtin-mmio" => RngKind.BuiltinMmio,
        _ => throw new ArgumentException($"RNG must be builtin, vhost-user or builtin-mmio (make TRANSPORT=mmio), not '{text}'"),
    };

    /// <summary>`make check-guest DEVICE=...`: the QEMU device name.</summary>
    public static RngKind ParseDevice(string text) => text switch
    {
        "virtio-rng-pci" => RngKind.Builtin,
        "vhost-user-rng-pci" => RngKind.VhostUser,
        "virtio-rng-device" => RngKind.BuiltinMmio,
        _ => throw new ArgumentException($"DEVICE must be virtio-rng-pci, vhost-user-rng-pci or virtio-rng-device, not '{text}'"),
    };

    /// <param name="name">The column title: "Linux 6.1", "GuestOS".</param>
    /// <param name="options">The guest's boot options (kernel, command line); the device and tracing are added here.</param>
    /// <param name="traceFile">Where QEMU writes its trace (kept for the reader).</param>
    /// <param name="backendBinary">The vhost-user backend, for <see cref="RngKind.VhostUser"/>.</param>
    /// <param name="guest">Any guest's QEMU arguments, in place of the options' kernel and command line.</param>
    /// <param name="idleAfterDriverOk">Stop a guest that does not exit once its devices are this long quiet after DRIVER_OK.</param>
    public static async Task<GuestTrace> RunAsync(string name, RunOptions options, RngKind rng, string traceFile,
                                                  string? backendBinary = null, CancellationToken cancellationToken = default,
                                                  GuestCommandLine? guest = null, TimeSpan? idleAfterDriverOk = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(traceFile))!);
        File.Delete(traceFile);
        options = options with { TracePatterns = TraceEvents.Patterns, QemuExtra = [.. options.QemuExtra, .. TraceEvents.QemuArguments(traceFile)] };

        VhostUserRngBackend? backend = null;
        if (rng != RngKind.VhostUser)
        {
            options = options with
            {
                // virtio-mmio: version 2 (virtio 1.x), not QEMU's legacy default (the Makefile's TRANSPORT=mmio).
                QemuExtra = [.. options.QemuExtra, "-object", "rng-random,id=rng0,filename=/dev/urandom",
                             .. rng == RngKind.BuiltinMmio ? new[] { "-global", "virtio-mmio.force-legacy=false" } : []],
                Devices = [.. options.Devices, (rng == RngKind.Builtin ? "virtio-rng-pci" : "virtio-rng-device") + ",rng=rng0"],
            };
        }
        else
        {
            backend = await VhostUserRngBackend.StartAsync(
                backendBinary ?? throw new ArgumentException("RNG=vhost-user needs the backend binary (--backend)"),
                ["-vv", "--log-timestamps"]).ConfigureAwait(false);
            options = options with { SharedMemory = true, QemuExtra = [.. options.QemuExtra, .. backend.QemuArguments] };
        }

        try
        {
            // Each console line is stamped with the wall clock when it arrives, the clock QEMU's
            // trace and the backend's log use. (The runner's own stamps count from QEMU's launch,
            // whose wall-clock time is only known to within the runner's start-up: milliseconds.)
            var console = new List<TimedLine>();
            var consoleLines = new List<ConsoleLine>();
            var stderr = new List<ConsoleLine>();
            double launched = double.MaxValue;
            options = options with
            {
                OnConsoleLine = line =>
                {
                    double now = TimedLine.Now();
                    lock (console)
                    {
                        console.Add(new TimedLine(now, line.Text));
                        consoleLines.Add(line);
                        launched = Math.Min(launched, now - line.At.TotalSeconds);
                    }
                },
                OnQemuStderrLine = line => { lock (stderr) stderr.Add(line); },
            };
            var argv = QemuCommandLine.Build(options);
            if (guest is not null) argv = guest.Apply(argv);
            double started = TimedLine.Now();
            using var idle = new CancellationTokenSource();
            using var finished = new CancellationTokenSource();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
            var watch = idleAfterDriverOk is { } quiet ? IdleWatch.RunAsync(traceFile, quiet, idle, finished.Token) : Task.CompletedTask;
            RunResult run;
            string? stoppedIdle = null;
            try
            {
                run = await QemuRunner.RunAsync(options, argv, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Stopped by the idle watch: QEMU is gone, the run is what the callbacks saw.
                stoppedIdle = $"idle for {idleAfterDriverOk!.Value.TotalSeconds:0.#} s after DRIVER_OK";
                run = new RunResult
                {
                    Outcome = RunOutcome.Timeout, Status = null, Verdict = Verdict.FromLines(consoleLines), Lines = consoleLines,
                    QemuStderr = stderr, FirstByteAt = consoleLines.FirstOrDefault()?.At, Duration = TimeSpan.FromSeconds(TimedLine.Now() - started),
                    Timeout = options.Timeout, CommandLine = argv,
                };
            }
            await finished.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
            if (backend is not null) await backend.DisposeAsync().ConfigureAwait(false);
            if (launched != double.MaxValue) started = launched;
            var events = File.Exists(traceFile) ? QemuTraceEvent.ParseAll(File.ReadLines(traceFile)) : [];
            var backendLog = backend?.Log.Select(TimedLine.ParseStamped).OfType<TimedLine>().ToList() ?? [];
            // Kept beside the trace for the reader: the console and the backend's log.
            File.WriteAllLines(Path.ChangeExtension(traceFile, ".console"), run.Lines.Select(l => l.ToString()));
            if (backend is not null) File.WriteAllLines(Path.ChangeExtension(traceFile, ".backend.log"), backend.Log);
            return new GuestTrace(name, started, events, console, backendLog, run)
            {
                StoppedBecause = stoppedIdle ?? (run.Outcome == RunOutcome.Timeout
                    ? $"time limit ({run.Timeout?.TotalSeconds:0} s)"
                    : $"the guest exited (QEMU status {run.Status?.Status})"),
            };
        }
        finally
        {
            if (backend is not null) await backend.DisposeAsync().ConfigureAwait(false);
        }
    }
}
