using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>Which entropy device the guest gets; both guests get the same one.</summary>
public enum RngKind
{
    /// <summary>QEMU's virtio-rng-pci fed by /dev/urandom.</summary>
    Builtin,
    /// <summary>vhost-user-rng-pci served by tools/vhost-user-rng.</summary>
    VhostUser,
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
        _ => throw new ArgumentException($"RNG must be builtin or vhost-user, not '{text}'"),
    };

    /// <param name="name">The column title: "Linux 6.1", "GuestOS".</param>
    /// <param name="options">The guest's boot options (kernel, command line); the device and tracing are added here.</param>
    /// <param name="traceFile">Where QEMU writes its trace (kept for the reader).</param>
    /// <param name="backendBinary">The vhost-user backend, for <see cref="RngKind.VhostUser"/>.</param>
    public static async Task<GuestTrace> RunAsync(string name, RunOptions options, RngKind rng, string traceFile,
                                                  string? backendBinary = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(traceFile))!);
        File.Delete(traceFile);
        options = options with { TracePatterns = TraceEvents.Patterns, QemuExtra = [.. options.QemuExtra, .. TraceEvents.QemuArguments(traceFile)] };

        VhostUserRngBackend? backend = null;
        if (rng == RngKind.Builtin)
        {
            options = options with
            {
                QemuExtra = [.. options.QemuExtra, "-object", "rng-random,id=rng0,filename=/dev/urandom"],
                Devices = [.. options.Devices, "virtio-rng-pci,rng=rng0"],
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
            double launched = double.MaxValue;
            options = options with
            {
                OnConsoleLine = line =>
                {
                    double now = TimedLine.Now();
                    lock (console)
                    {
                        console.Add(new TimedLine(now, line.Text));
                        launched = Math.Min(launched, now - line.At.TotalSeconds);
                    }
                },
            };
            double started = TimedLine.Now();
            var run = await QemuRunner.RunAsync(options, cancellationToken).ConfigureAwait(false);
            if (backend is not null) await backend.DisposeAsync().ConfigureAwait(false);
            if (launched != double.MaxValue) started = launched;
            var events = File.Exists(traceFile) ? QemuTraceEvent.ParseAll(File.ReadLines(traceFile)) : [];
            var backendLog = backend?.Log.Select(TimedLine.ParseStamped).OfType<TimedLine>().ToList() ?? [];
            // Kept beside the trace for the reader: the console and the backend's log.
            File.WriteAllLines(Path.ChangeExtension(traceFile, ".console"), run.Lines.Select(l => l.ToString()));
            if (backend is not null) File.WriteAllLines(Path.ChangeExtension(traceFile, ".backend.log"), backend.Log);
            return new GuestTrace(name, started, events, console, backendLog, run);
        }
        finally
        {
            if (backend is not null) await backend.DisposeAsync().ConfigureAwait(false);
        }
    }
}
