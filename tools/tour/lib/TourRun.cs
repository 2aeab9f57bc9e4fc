using System.Diagnostics;
using GuestOS.Compare;
using GuestOS.Runner;

namespace GuestOS.Tour;

/// <summary>What one tour needs: the guest, the device, the debug QEMU, and where to write.</summary>
public sealed record TourOptions
{
    public required TargetArch Arch { get; init; }
    public required TourRng Rng { get; init; }
    public required string Kernel { get; init; }
    /// <summary>The debug build directory (build/qemu-debug/&lt;version&gt;/src/build), holding qemu-system-&lt;arch&gt;.</summary>
    public required string QemuBuild { get; init; }
    public required string Repository { get; init; }
    public required string OutputDirectory { get; init; }
    public string? Backend { get; init; }
    public int GicVersion { get; init; } = Machines.DefaultGicVersion;
    /// <summary>The whole tour, QEMU start to exit, must end within this.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>A Linux guest instead of GuestOS (<see cref="Kernel"/> is then its bzImage).</summary>
    public LinuxTour? Linux { get; init; }

    public GuestProbes Probes => Linux is null ? GuestProbes.For(Rng) : GuestProbes.Linux;
}

/// <summary>
/// Debian's Linux 6.1 as the tour's guest: the kernel and initramfs of `make linux` (the same boot
/// as make compare's, with nokaslr so that vmlinux's addresses hold) and Debian's symbols for it.
/// </summary>
public sealed record LinuxTour(LinuxGuest Guest, LinuxSymbols Symbols)
{
    /// <summary>/init reads this much from /dev/hwrng: a few requests, each one kick -> fill -> interrupt.</summary>
    public const int Bytes = 256;
}

/// <summary>The raw results of one tour, kept in the output directory as well.</summary>
public sealed record TourResult(IReadOnlyList<TourStop> Stops, IReadOnlyList<BackendEvent> Backend,
                                IReadOnlyList<string> Console, IReadOnlyList<QemuTraceEvent> Trace,
                                IReadOnlyList<string> BackendLog, TimeSpan Duration);

/// <summary>
/// Runs one tour: the backend (vhost-user), the debug QEMU inside gdb (tools/tour/tour.py,
/// TOUR_SIDE=qemu) with a breakpoint on every chain function, and gdb-multiarch on the kernel
/// ELF attached to that QEMU's gdbstub (TOUR_SIDE=guest). QEMU also writes `make trace`'s trace
/// events, so the trace labels can be checked against the stacks of the same run. Nothing is
/// left running: QEMU (by its pid file), both debuggers and the backend are stopped on every path.
/// </summary>
public static class TourRun
{
    public static async Task<TourResult> RunAsync(TourOptions o, CancellationToken cancellationToken = default)
    {
        string qemuBinary = Path.Combine(o.QemuBuild, o.Arch.QemuBinary());
        if (!File.Exists(qemuBinary)) throw new TourException($"no debug QEMU at {qemuBinary}: run `make qemu-debug` first");
        if (!File.Exists(o.Kernel)) throw new TourException($"no kernel at {o.Kernel}: run `make ARCH={o.Arch.Name()} {(o.Linux is null ? "kernel" : "linux")}` first");
        foreach (var tool in new[] { "gdb", "gdb-multiarch" })
            if (Which(tool) is null) throw new TourException($"{tool} is not installed (Debian: apt-get install {(tool == "gdb" ? "gdb" : "gdb-multiarch")})");
        string script = Path.Combine(o.Repository, "tools/tour/tour.py");

        string dir = Path.GetFullPath(o.OutputDirectory);
        Directory.CreateDirectory(dir);
        string qemuRecord = Path.Combine(dir, "qemu.jsonl"), guestRecord = Path.Combine(dir, "guest.jsonl");
        string console = Path.Combine(dir, "console.log"), trace = Path.Combine(dir, "qemu.trace"), pidFile = Path.Combine(dir, "qemu.pid");
        foreach (var f in new[] { qemuRecord, guestRecord, console, trace, pidFile }) File.Delete(f);
        string gdbSocket = Path.Combine(Directory.CreateTempSubdirectory("guestos-tour-").FullName, "gdbstub");

        var guestBreaks = o.Linux is null ? GuestSymbols(o.Kernel, o.Probes) : LinuxBreaks;
        var linuxBoot = o.Linux?.Guest.Options(LinuxTour.Bytes);
        await using var backend = o.Rng == TourRng.VhostUser
            ? await VhostUserRngBackend.StartAsync(o.Backend ?? throw new TourException("RNG=vhost-user needs the backend (--backend)"), ["-vv", "--log-timestamps"]).ConfigureAwait(false)
            : null;
        var options = new RunOptions
        {
            KernelPath = o.Kernel,
            Arch = o.Arch,
            Append = linuxBoot is null ? "" : linuxBoot.Append + " nokaslr",
            GicVersion = o.GicVersion,
            QemuBinary = qemuBinary,
            Gdb = true,
            GdbSocket = gdbSocket,
            SharedMemory = backend is not null,
            TracePatterns = TraceEvents.Patterns,
            Devices = backend is not null ? [] : o.Rng == TourRng.BuiltinMmio ? ["virtio-rng-device,rng=rng0"] : ["virtio-rng-pci,rng=rng0"],
            QemuExtra =
            [
                // The debug build does not know Debian's firmware directories (x86: bios-256k.bin).
                "-L", "/usr/share/seabios", "-L", "/usr/share/qemu", "-pidfile", pidFile,
                .. linuxBoot?.QemuExtra ?? [],
                .. TraceEvents.QemuArguments(trace),
                .. backend is null ? ["-object", "rng-random,id=rng0,filename=/dev/urandom"] : backend.QemuArguments,
                // virtio-mmio version 2 (virtio 1.x), not QEMU's legacy default: as make trace TRANSPORT=mmio.
                .. o.Rng == TourRng.BuiltinMmio ? ["-global", "virtio-mmio.force-legacy=false"] : Array.Empty<string>(),
            ],
        };
        var argv = QemuCommandLine.Build(options).ToList();
        int serial = argv.IndexOf("-serial");
        argv[serial + 1] = "file:" + console;   // gdb's own output stays apart from the guest's console

        var started = Stopwatch.StartNew();
        var qemuBreaks = TourChain.For(o.Rng).Select(s => s.Breakpoint).Distinct();
        using var host = StartGdb("gdb", ["-batch", "-nx", "-x", script, "--args", .. argv], "qemu", qemuRecord, qemuBreaks, null);
        Process? guest = null;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(o.TimeLimit);
            // QEMU creates its gdbstub socket once gdb has set the breakpoints and run it.
            while (!File.Exists(gdbSocket))
            {
                if (host.Process.HasExited)
                    throw new TourException("gdb on QEMU ended before QEMU started: "
                        + string.Join("; ", TourRecording.Parse(Lines(qemuRecord)).Errors) + "\n" + host.Output);
                await Task.Delay(50, deadline.Token).ConfigureAwait(false);
            }
            var g = StartGdb("gdb-multiarch", ["-batch", "-nx", .. GuestGdbFile(o), "-x", script], "guest", guestRecord, guestBreaks, gdbSocket,
                             o.Linux is null ? null : string.Join(',', o.Linux.Symbols.Modules.Select(m => $"{m.Key}={m.Value}")));
            guest = g.Process;
            try
            {
                // The guest's gdb ends when QEMU does; if it ends first it failed (QEMU would wait, halted, forever).
                var hostExit = host.Process.WaitForExitAsync(deadline.Token);
                var first = await Task.WhenAny(hostExit, guest.WaitForExitAsync(deadline.Token)).ConfigureAwait(false);
                deadline.Token.ThrowIfCancellationRequested();
                if (first != hostExit)
                {
                    var guestRecording = TourRecording.Parse(Lines(guestRecord));
                    if (guestRecording.Errors.Count > 0 || !guestRecording.Exited)
                        throw new TourException("gdb-multiarch on the guest failed: " + string.Join("; ", guestRecording.Errors) + "\n" + g.Output);
                }
                await hostExit.ConfigureAwait(false);
                await guest.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var partial = Collect(o, qemuRecord, guestRecord, console, trace, backend, started.Elapsed);
                var missing = TourReport.Build(o.Rng, partial.Stops, partial.Backend, o.Probes).Missing.Select(s => s.Function).ToList();
                throw new TourException(
                    $"the tour did not finish within {TourRender.Seconds(o.TimeLimit)}; " +
                    (missing.Count > 0 ? $"never reached: {string.Join(", ", missing)}" : "every chain function was reached") +
                    (o.Linux is null ? "" : "; " + LinuxSymbolsLoaded(TourRecording.Parse(Lines(guestRecord)))) +
                    "\nlast guest console lines:\n  " + string.Join("\n  ", partial.Console.TakeLast(10)));
            }
            var recording = TourRecording.Parse(Lines(qemuRecord));
            if (recording.Errors.Count > 0) throw new TourException("gdb could not set breakpoints: " + string.Join("; ", recording.Errors));
            if (!recording.Exited) throw new TourException("gdb on QEMU ended without QEMU exiting:\n" + host.Output);
            var guestSide = TourRecording.Parse(Lines(guestRecord));
            if (guestSide.Errors.Count > 0) throw new TourException("gdb-multiarch on the guest: " + string.Join("; ", guestSide.Errors));
            if (o.Linux is not null && LinuxBreaks.Except(guestSide.Armed).Any())
                throw new TourException(LinuxSymbolsLoaded(guestSide) + "\nlast guest console lines:\n  " + string.Join("\n  ", Lines(console).TakeLast(10)));
        }
        finally
        {
            KillQemu(pidFile);
            foreach (var p in new[] { host.Process, guest })
                if (p is { HasExited: false }) { p.Kill(entireProcessTree: true); await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false); }
            guest?.Dispose();
            Directory.Delete(Path.GetDirectoryName(gdbSocket)!, recursive: true);
        }
        if (backend is not null) await backend.DisposeAsync().ConfigureAwait(false);
        var result = Collect(o, qemuRecord, guestRecord, console, trace, backend, started.Elapsed);
        if (backend is not null) File.WriteAllLines(Path.Combine(dir, "backend.log"), result.BackendLog);
        return result;
    }

    private static TourResult Collect(TourOptions o, string qemuRecord, string guestRecord, string console, string trace,
                                      VhostUserRngBackend? backend, TimeSpan duration)
    {
        var stops = TourRecording.Parse(Lines(qemuRecord)).Stops.Concat(TourRecording.Parse(Lines(guestRecord)).Stops).ToList();
        var log = backend?.Log ?? [];
        return new TourResult(stops, BackendEvent.ParseLog(log, new BackendSource(o.Repository)), Lines(console).ToList(),
                              QemuTraceEvent.ParseAll(Lines(trace)), log, duration);
    }

    private static IEnumerable<string> Lines(string file) => File.Exists(file) ? File.ReadAllLines(file) : [];

    /// <summary>The stops an earlier tour recorded in <paramref name="directory"/> (both debuggers), or null if there is none.</summary>
    public static IReadOnlyList<TourStop>? Recorded(string directory)
    {
        string qemu = Path.Combine(directory, "qemu.jsonl"), guest = Path.Combine(directory, "guest.jsonl");
        if (!File.Exists(qemu) || !File.Exists(guest)) return null;
        return TourRecording.Parse(Lines(qemu)).Stops.Concat(TourRecording.Parse(Lines(guest)).Stops).ToList();
    }

    /// <summary>Linux's breakpoints as tools/tour/tour.py takes them (the store only under virtio_device_ready).</summary>
    private static readonly string[] LinuxBreaks = GuestProbes.Linux.Breakpoints(name => name);

    /// <summary>The guest's debugger loads the kernel ELF; for Linux, vmlinux with gdb's index of it (1.5 s instead of 8-25 s).</summary>
    private static string[] GuestGdbFile(TourOptions o) => o.Linux is null ? [o.Kernel] :
        ["-iex", $"set index-cache directory {Path.GetFullPath(o.Linux.Symbols.IndexCache)}", "-iex", "set index-cache enabled on", o.Linux.Symbols.Vmlinux];

    /// <summary>Which of Linux's breakpoints could be set: those in modules need the module's symbols, added when it loaded.</summary>
    public static string LinuxSymbolsLoaded(TourRecording guest)
    {
        var never = LinuxBreaks.Except(guest.Armed).ToList();
        string loads = guest.Modules.Count == 0 ? "no module loads seen (do_init_module never stopped)" : "modules seen loading: " + string.Join(", ", guest.Modules);
        return never.Count == 0 ? $"every Linux breakpoint was set ({loads})"
            : $"Linux's symbols were never loaded for the breakpoint(s) {string.Join(", ", never)}: {loads}";
    }

    /// <summary>The guest's breakpoints (see <see cref="TourChain.GuestStore"/>), found by their NativeAOT symbol suffixes.</summary>
    private static string[] GuestSymbols(string kernel, GuestProbes probes)
    {
        var nm = Process.Start(new ProcessStartInfo("llvm-nm", ["--defined-only", kernel]) { RedirectStandardOutput = true })!;
        // "000000004020bc6c t kernel_..._vp_modern_set_status": code symbols only (not the _lsda0 unwind data).
        var names = nm.StandardOutput.ReadToEnd().Split('\n').Select(l => l.Split(' '))
                      .Where(f => f.Length == 3 && f[1] is "t" or "T").Select(f => f[2]).ToList();
        nm.WaitForExit();
        string Symbol(string suffix) => names.FirstOrDefault(n => n.EndsWith(suffix, StringComparison.Ordinal))
                                        ?? throw new TourException($"{kernel} has no symbol ending in {suffix}");
        return probes.Breakpoints(Symbol);
    }

    private sealed class Gdb(Process process) : IDisposable
    {
        private readonly System.Text.StringBuilder output = new();
        public Process Process { get; } = process;
        public string Output { get { lock (output) return output.ToString(); } }
        public void Keep(string? line) { if (line is not null) lock (output) output.AppendLine(line); }
        public void Dispose() => Process.Dispose();
    }

    private static Gdb StartGdb(string gdb, IEnumerable<string> args, string side, string record, IEnumerable<string> breaks, string? target,
                                string? linuxModules = null)
    {
        var start = new ProcessStartInfo(gdb) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["TOUR_SIDE"] = side;
        start.Environment["TOUR_OUT"] = record;
        start.Environment["TOUR_BREAKS"] = string.Join(',', breaks);
        if (target is not null) start.Environment["TOUR_TARGET"] = target;
        if (linuxModules is not null) start.Environment["TOUR_LINUX_MODULES"] = linuxModules;
        var g = new Gdb(Process.Start(start)!);
        g.Process.OutputDataReceived += (_, e) => g.Keep(e.Data);
        g.Process.ErrorDataReceived += (_, e) => g.Keep(e.Data);
        g.Process.BeginOutputReadLine();
        g.Process.BeginErrorReadLine();
        g.Process.StandardInput.Close();
        return g;
    }

    private static void KillQemu(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)) return;
        try { using var p = Process.GetProcessById(pid); if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); } }
        catch (ArgumentException) { }          // already gone
        catch (InvalidOperationException) { }
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}

public sealed class TourException(string message) : Exception(message);
