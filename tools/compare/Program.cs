using System.Globalization;
using GuestOS.Compare;
using GuestOS.Compare.Report;
using GuestOS.Compare.Spec;
using GuestOS.Runner;

// guestos-compare: `make compare` and `make trace`. See tools/compare/README.md.
try
{
    var a = new Args(args);
    return a.Command switch
    {
        "compare" => await CompareAsync(a),
        "trace" => await TraceAsync(a),
        "check-guest" => await CheckGuestAsync(a),
        _ => throw new ArgumentException(Args.Usage),
    };
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or RunOptionsException)
{
    Console.Error.WriteLine($"guestos-compare: {e.Message}");
    return 2;
}

static async Task<int> CompareAsync(Args a)
{
    var linux = new LinuxGuest(a.Linux, a.Arch);
    string outDir = a.Out;
    Console.WriteLine($"compare: {a.Arch.Name()}, RNG={a.RngText}, {a.Bytes} bytes each; traces in {outDir}/");
    var l = await TracedRun.RunAsync("Linux 6.1", linux.Options(a.Bytes), a.Rng, Path.Combine(outDir, "linux.trace"), a.Backend);
    if (a.GuestArgs is not null)
    {
        // GUEST="...": any guest beside Linux, on the same command line (see check-guest).
        var guest = new GuestCommandLine(a.GuestArgs);
        var other = await TracedRun.RunAsync("guest", new RunOptions { KernelPath = guest.BootFile, Arch = a.Arch, Timeout = a.TimeLimit },
                                             a.Rng, Path.Combine(outDir, "guest.trace"), a.Backend, guest: guest, idleAfterDriverOk: a.Idle);
        WriteHtml(Path.Combine(outDir, "report.html"), $"make compare: Linux 6.1 beside your guest ({a.Arch.Name()}, RNG={a.RngText})",
                  [Judged(l, Path.Combine(outDir, "linux.trace")), Judged(other, Path.Combine(outDir, "guest.trace"))]);
        return CompareReport.Write(Console.Out, ComparedGuest.Linux(l), ComparedGuest.Other(other));
    }
    // quiet: the narration costs serial output (milliseconds under TCG) that Linux, booted
    // quiet too, does not pay; the comparison reads QEMU's trace, not the console.
    var g = await TracedRun.RunAsync("GuestOS", GuestOsOptions(a, $"rng.bytes={a.Bytes} quiet {a.GuestAppend}".Trim()), a.Rng, Path.Combine(outDir, "guestos.trace"), a.Backend);

    WriteHtml(Path.Combine(outDir, "report.html"), $"make compare: Linux 6.1 beside GuestOS ({a.Arch.Name()}, RNG={a.RngText})",
              [Judged(l, Path.Combine(outDir, "linux.trace")), Judged(g, Path.Combine(outDir, "guestos.trace"))]);
    return CompareReport.Write(Console.Out, ComparedGuest.Linux(l), ComparedGuest.GuestOs(g));
}

static async Task<int> CheckGuestAsync(Args a)
{
    var guest = new GuestCommandLine(a.GuestArgs ?? "");
    string trace = Path.Combine(a.Out, "guest.trace");
    Console.WriteLine($"check-guest: {a.Arch.Name()}, DEVICE={a.Device}; time limit {a.TimeLimit.TotalSeconds:0} s, idle {a.Idle.TotalSeconds:0.#} s after DRIVER_OK; trace in {trace}");
    var result = await GuestCheck.RunAsync(a.Arch, TracedRun.ParseDevice(a.Device), guest, trace, a.Backend, a.TimeLimit, a.Idle);
    WriteHtml(Path.Combine(a.Out, "report.html"), $"make check-guest: your guest against virtio 1.2 ({a.Arch.Name()}, DEVICE={a.Device})",
              [new(result.Run.Name, result.Run, trace, result.Verdicts)]);
    return GuestCheck.Write(Console.Out, result);
}

// A compared guest in the HTML report, with the rule catalogue's verdicts (the terminal keeps the 3.1.1 summary).
static ReportGuest Judged(GuestTrace run, string traceFile) =>
    new(run.Name, run, traceFile, RuleCatalogue.Check(DeviceTrace.Decode(run.Events, Transport.PciModern)));

// The HTML report: named on stderr, so that the terminal report itself stays as it was.
static void WriteHtml(string path, string title, IReadOnlyList<ReportGuest> guests) =>
    Console.Error.WriteLine($"report: {HtmlReport.Write(path, title, guests)}");

static async Task<int> TraceAsync(Args a)
{
    RunOptions options = a.Guest == "linux"
        ? new LinuxGuest(a.Linux, a.Arch).Options(a.Bytes)
        : GuestOsOptions(a, $"rng.bytes={a.Bytes} {a.GuestAppend}".Trim());
    var run = await TracedRun.RunAsync(a.Guest == "linux" ? "Linux 6.1" : "GuestOS", options, a.Rng, Path.Combine(a.Out, $"{a.Guest}.trace"), a.Backend);
    var entries = Timeline.Build(run);
    Console.WriteLine($"trace: {run.Name} on {a.Arch.Name()}, RNG={a.RngText}: one device start and one request; ms from QEMU's start");
    Console.WriteLine($"       guest = console narration, qemu = {Path.Combine(a.Out, a.Guest + ".trace")}, backend = vhost-user-rng -vv --log-timestamps");
    Console.Write(Timeline.Render(entries, run.QemuStartedAt));
    WriteHtml(Path.Combine(a.Out, $"trace-{a.Guest}.html"), $"make trace: {run.Name}, one device start and one request ({a.Arch.Name()}, RNG={a.RngText})",
              [new(run.Name, run, Path.Combine(a.Out, a.Guest + ".trace"))]);
    return 0;
}

static RunOptions GuestOsOptions(Args a, string append) => new()
{
    KernelPath = a.Kernel,
    Arch = a.Arch,
    Append = append,
    Timeout = TimeSpan.FromSeconds(120),
};

sealed class Args
{
    public const string Usage = """
        usage: guestos-compare compare --arch ARCH [--rng builtin|vhost-user] --kernel KERNEL.elf --linux DIR [--backend BIN] [--bytes N] [--out DIR] [--append "GUESTOS ARGS"]
               guestos-compare check-guest --arch ARCH --guest-args "QEMU ARGS" [--device virtio-rng-pci|vhost-user-rng-pci|virtio-rng-device] [--time-limit S] [--idle S] [--backend BIN] [--out DIR]
               guestos-compare trace   --arch ARCH [--rng vhost-user|builtin] [--guest guestos|linux] --kernel KERNEL.elf [--linux DIR] [--backend BIN] [--bytes N] [--out DIR] [--append "GUESTOS ARGS"]
          compare --guest-args "QEMU ARGS" puts that guest beside Linux instead of GuestOS
          --append adds to GuestOS's command line, e.g. "rng.buffers=1 rng.bufsize=64" for Linux's shape
        """;

    public string Command { get; }
    public TargetArch Arch { get; }
    public RngKind Rng { get; }
    public string RngText { get; }
    public string Kernel { get; } = "";
    public string Linux { get; } = "";
    public string? Backend { get; }
    public int Bytes { get; }
    public string Out { get; }
    public string Guest { get; } = "guestos";
    public string GuestAppend { get; } = "";
    public string? GuestArgs { get; }
    public string Device { get; } = "virtio-rng-pci";
    public TimeSpan TimeLimit { get; }
    public TimeSpan Idle { get; }

    public Args(string[] args)
    {
        if (args.Length == 0) throw new ArgumentException(Usage);
        Command = args[0];
        var values = new Dictionary<string, string>();
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"'{args[i]}' needs a value\n{Usage}");
            values[args[i][2..]] = args[++i];
        }
        string Get(string key, string fallback) => values.Remove(key, out var v) ? v : fallback;
        Arch = TargetArchNames.Parse(Get("arch", "x86_64"));
        RngText = Get("rng", Command == "trace" ? "vhost-user" : "builtin");
        Rng = TracedRun.ParseRng(RngText);
        Kernel = Get("kernel", $"build/{Arch.Name()}/kernel.elf");
        Linux = Get("linux", $"build/linux/{Arch.Name()}");
        Backend = Get("backend", "build/vhost-user-rng/vhost-user-rng");
        string bytes = Get("bytes", Command == "trace" ? "64" : "65536");
        Bytes = int.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 64 && n % 64 == 0
            ? n : throw new ArgumentException($"--bytes '{bytes}' must be a multiple of 64, at least 64");
        Out = Get("out", $"build/{(Command == "check-guest" ? "check-guest" : "compare")}/{Arch.Name()}");
        GuestArgs = values.Remove("guest-args", out var g) && g.Trim().Length > 0 ? g : null;
        Device = Get("device", "virtio-rng-pci");
        TimeLimit = Seconds("time-limit", GuestCheck.DefaultTimeLimit);
        Idle = Seconds("idle", GuestCheck.DefaultIdle);
        Guest = Get("guest", "guestos");
        GuestAppend = Get("append", "");
        if (Guest is not ("guestos" or "linux")) throw new ArgumentException($"--guest must be guestos or linux, not '{Guest}'");
        if (values.Count > 0) throw new ArgumentException($"unknown option --{values.Keys.First()}\n{Usage}");
        if (Command == "check-guest" && GuestArgs is null)
            throw new ArgumentException("check-guest needs the guest: GUEST=\"-kernel bzImage -initrd initrd.img -append 'console=ttyS0'\" (any QEMU arguments that boot it)");
        if (!File.Exists(Kernel) && ((Command == "compare" && GuestArgs is null) || (Command == "trace" && Guest == "guestos")))
            throw new FileNotFoundException($"{Kernel} is missing: build it with `make kernel ARCH={Arch.Name()}`");

        TimeSpan Seconds(string key, TimeSpan fallback)
        {
            if (!values.Remove(key, out var text)) return fallback;
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
                ? TimeSpan.FromSeconds(s) : throw new ArgumentException($"--{key} '{text}' must be a positive number of seconds");
        }
    }
}
