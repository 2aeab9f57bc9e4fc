using System.Diagnostics;
using System.Text.Json;
using GuestOS.Compare;
using GuestOS.Runner;
using VhostUser.Tests.Frontend;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;

namespace GuestOS.Bench;

// The entropy devices measured, not the boot (issue 17). Per architecture, in one invocation and
// interleaved run by run so that a busy host slows every row alike:
//   ceilings   the host's /dev/urandom read rate (what QEMU's built-in device reads from) and
//              the backend's own serve rate with no guest (RngDevice.Serve on 4 x 256 KiB chains);
//   Linux 6.1  dd from /dev/hwrng, on the built-in device and on our backend;
//   GuestOS    rng.bench=N: defaults on each device, our backend with event suppression off
//              on both sides (backend --busy-poll-us 0: a kick for every buffer posted to an
//              idle ring; rng.nospin: the reader sleeps on an interrupt at once), and our
//              backend at other buffer sizes (the best one is reported beside the defaults).
//              `guest-rng [runs] --backend-only` keeps just our backend's ceiling and its two
//              default rows, for short A/B runs. Each boot also copies as much again
//              with no device (BENCH-COPY): "x guest copy" is how close the device path comes
//              to the guest's own copy under TCG.
// GuestOS's MB/s is guest time (BENCH-START to BENCH-END on its own clock); Linux's busybox has
// no sub-second clock, so its window is the host arrival of the lines around dd. Host CPU is
// sampled from /proc over the same windows (ProcCpu). Written to build/bench/guest-rng.json.
public static class GuestRngBench
{
    private const long GuestBytes = 256L << 20;
    private const int LinuxBytes = 1 << 20;
    private static readonly string[] Arches = ["x86_64", "aarch64"];
    private static readonly uint[] OtherBufferSizes = [128 << 10, 512 << 10, 1 << 20];

    // Transport "mmio": the device on virtio-mmio (version 2) instead of virtio-pci - microvm on
    // x86_64, virt's virtio-mmio slots on aarch64 - so DRIVER_OK and MB/s compare the transports.
    // BackendArgs: more arguments for our backend (after its socket).
    public sealed record Config(string Arch, RowKind Kind, EntropyDevice Device, string Name, string Append = "", string Transport = "pci",
                                string[]? BackendArgs = null);

    public const string BackendOnly = "--backend-only";

    /// <summary>The arguments after "guest-rng": [runs] [--backend-only], in either order.</summary>
    public static (int Runs, bool BackendOnly) ParseArgs(IReadOnlyList<string> args)
    {
        int runs = 3;
        bool backendOnly = false;
        foreach (string a in args)
        {
            if (a == BackendOnly) backendOnly = true;
            else if (int.TryParse(a, out int n) && n > 0) runs = n;
            else throw new FormatException($"guest-rng: '{a}' is neither a number of runs (1 or more) nor {BackendOnly}");
        }
        return (runs, backendOnly);
    }

    /// <summary>The rows measured, in the order each run measures them.</summary>
    public static List<Config> Configs(bool backendOnly)
    {
        var configs = new List<Config>();
        foreach (var arch in Arches)
        {
            configs.Add(new(arch, RowKind.Ceiling, EntropyDevice.BuiltIn, "host /dev/urandom, 1 MiB reads"));
            configs.Add(new(arch, RowKind.Ceiling, EntropyDevice.Backend, "backend serving alone, 4 x 256 KiB chains"));
            configs.Add(new(arch, RowKind.Linux, EntropyDevice.BuiltIn, "Linux 6.1, dd from /dev/hwrng"));
            configs.Add(new(arch, RowKind.Linux, EntropyDevice.Backend, "Linux 6.1, dd from /dev/hwrng"));
            configs.Add(new(arch, RowKind.GuestOS, EntropyDevice.BuiltIn, "GuestOS, defaults"));
            configs.Add(new(arch, RowKind.GuestOS, EntropyDevice.Backend, "GuestOS, defaults"));
            configs.Add(new(arch, RowKind.GuestOS, EntropyDevice.Backend, NoPollingName, "rng.nospin", BackendArgs: ["--busy-poll-us", "0"]));
            foreach (uint size in OtherBufferSizes)
                configs.Add(new(arch, RowKind.GuestOS, EntropyDevice.Backend, $"GuestOS, rng.bufsize={size}", $"rng.bufsize={size}"));
            string mmio = arch == "x86_64" ? "virtio-mmio on microvm" : "virtio-mmio";
            configs.Add(new(arch, RowKind.GuestOS, EntropyDevice.BuiltIn, $"GuestOS, defaults, {mmio}", Transport: "mmio"));
            configs.Add(new(arch, RowKind.GuestOS, EntropyDevice.Backend, $"GuestOS, defaults, {mmio}", Transport: "mmio"));
        }
        if (backendOnly)
            configs.RemoveAll(c => c.Device != EntropyDevice.Backend || c.Kind == RowKind.Linux || IsBufferSizeRow(c) || c.Transport != "pci");
        return configs;
    }

    public const string NoPollingName = "GuestOS, defaults but no polling (backend --busy-poll-us 0, rng.nospin)";

    private static bool IsBufferSizeRow(Config c) => c.Append.StartsWith("rng.bufsize=", StringComparison.Ordinal);

    public static int Run(string[] args)
    {
        var (runs, backendOnly) = ParseArgs(args[1..]);
        var configs = Configs(backendOnly);
        var samples = configs.ToDictionary(c => c, _ => new List<RngSample>());
        var shapes = new Dictionary<Config, string>();
        for (int i = 0; i < runs; i++)
            foreach (var c in configs)
            {
                Console.Error.WriteLine($"guest-rng: run {i + 1}/{runs}: {c.Arch} {c.Device} {c.Name}");
                var (sample, shape) = Measure(c);
                samples[c].Add(sample);
                shapes[c] = shape;
            }

        var rows = new List<RngRow>();
        foreach (var arch in Arches)
        {
            RngRow RowOf(Config c) => RngTable.Row(c.Arch, c.Kind, c.Device, c.Name, shapes[c], samples[c]);
            var mine = configs.Where(c => c.Arch == arch).ToList();
            rows.AddRange(mine.Where(c => !IsBufferSizeRow(c)).Select(RowOf));
            if (backendOnly) continue;
            var best = RngTable.Best(mine.Where(c => c.Kind == RowKind.GuestOS && c.Device == EntropyDevice.Backend && c.Transport == "pci" && (c.Append == "" || IsBufferSizeRow(c))).Select(RowOf));
            rows.Add(best with { Name = $"GuestOS, best buffer size ({best.Shape})" });
        }
        var table = RngTable.WithRatios(rows);
        Console.WriteLine();
        foreach (var arch in Arches)
        {
            foreach (var line in RngTable.Format(arch, table)) Console.WriteLine(line);
            Console.WriteLine();
        }
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        Console.WriteLine($"(medians of {runs} runs; MB = 10^6 bytes; x Linux and x ceiling against the row of the same device; " +
                          "ceilings' CPU is the measuring process's own, under 'backend'; Linux's MB/s is host time around dd; " +
                          $"host load average at the end: {load} on {Environment.ProcessorCount} CPUs)");
        string json = Path.Combine(Paths.Root, "build", "bench", "guest-rng.json");
        Directory.CreateDirectory(Path.GetDirectoryName(json)!);
        File.WriteAllText(json, JsonSerializer.Serialize(new { runs, loadAverage = load, cpus = Environment.ProcessorCount, rows = table },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
                                        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } }));
        Console.WriteLine($"written: {json}");
        return 0;
    }

    private static (RngSample, string) Measure(Config c) => c.Kind switch
    {
        RowKind.Ceiling when c.Device == EntropyDevice.BuiltIn => (UrandomRate(GuestBytes), "1 MiB reads"),
        RowKind.Ceiling => (BackendServeRate(4L << 30), "4 x 256 KiB"),
        RowKind.Linux => (MeasureLinux(c), "1 x 64 B"),
        _ => MeasureGuestOS(c),
    };

    /// <summary>QEMU's built-in virtio-rng-pci (modern only) on the host's /dev/urandom.</summary>
    public static IReadOnlyList<string> BuiltInDevice =>
        ["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-pci,rng=rng0,disable-legacy=on"];

    private static readonly string[] MmioVersion2 = ["-global", "virtio-mmio.force-legacy=false"];

    private static IReadOnlyList<string> DeviceArguments(Config c, VhostUserRngBackend? backend) => c.Transport switch
    {
        "mmio" when backend != null => [.. backend.QemuArgumentsFor(0, mmio: true), .. MmioVersion2],
        "mmio" => ["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0", .. MmioVersion2],
        _ => backend?.QemuArguments ?? BuiltInDevice,
    };

    private static (RngSample, string) MeasureGuestOS(Config c)
    {
        var backend = c.Device == EntropyDevice.Backend ? VhostUserRngBackend.StartAsync(Paths.Backend, c.BackendArgs).GetAwaiter().GetResult() : null;
        try
        {
            var cpu = new WindowCpu(backend != null);
            var run = QemuRunner.Run(new RunOptions
            {
                KernelPath = Paths.Build(c.Arch, "kernel.elf"),
                Arch = TargetArchNames.Parse(c.Arch),
                Machine = c.Transport == "mmio" && c.Arch == "x86_64" ? "microvm" : null,
                Append = $"rng.bench={GuestBytes} quiet {c.Append}".Trim(),
                SharedMemory = true,   // on both devices, so that only the device differs
                QemuExtra = DeviceArguments(c, backend),
                Timeout = TimeSpan.FromSeconds(300),
                OnConsoleLine = l =>
                {
                    if (l.Text == "BENCH-START rng") cpu.Start();
                    else if (l.Text.StartsWith("BENCH-END rng", StringComparison.Ordinal)) cpu.Stop();
                },
            });
            if (!run.Passed) throw new InvalidOperationException($"{c.Arch} {c.Name} on {c.Device}: the guest failed\n{run.Report()}");
            var b = GuestBenchLines.Parse(run);
            if (b.Transport != (c.Transport == "mmio" ? "mmio" : "pci"))
                throw new InvalidOperationException($"{c.Arch} {c.Name}: the guest drove {b.Transport}, not {c.Transport}\n{run.Report()}");
            return (RngSample.From(b.Bytes, b.WindowUs / 1e6, b.Kicks, b.Interrupts, cpu.QemuSeconds, cpu.BackendSeconds, b.DriverOkUs / 1000.0,
                                   guestCopyMBps: b.CopyBytes / (double)b.CopyUs),
                    $"{b.Buffers} x {b.BufferSize}");
        }
        finally
        {
            backend?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    // Linux 6.1's virtio-rng through /dev/hwrng: dd in 64-byte reads, virtio-rng's buffer size.
    private static RngSample MeasureLinux(Config c)
    {
        var arch = TargetArchNames.Parse(c.Arch);
        var linux = new LinuxGuest(Path.Combine(Paths.Root, "build", "linux", c.Arch), arch);
        var backend = c.Device == EntropyDevice.Backend ? VhostUserRngBackend.StartAsync(Paths.Backend).GetAwaiter().GetResult() : null;
        try
        {
            var cpu = new WindowCpu(backend != null);
            RunOptions o = linux.Options(LinuxBytes);
            var run = QemuRunner.Run(o with
            {
                SharedMemory = true,
                QemuExtra = [.. o.QemuExtra, .. (backend?.QemuArguments ?? BuiltInDevice)],
                OnConsoleLine = l =>
                {
                    if (l.Text.StartsWith("LINUX-COMPARE: hwrng", StringComparison.Ordinal)) cpu.Start();
                    else if (l.Text.Contains("records out", StringComparison.Ordinal)) cpu.Stop();
                },
            });
            var window = LinuxDdWindow(run.Lines) ?? throw new InvalidOperationException($"{c.Arch} Linux on {c.Device}: no dd timing\n{run.Report()}");
            return RngSample.From(LinuxBytes, window.TotalSeconds, double.NaN, double.NaN, cpu.QemuSeconds, cpu.BackendSeconds, double.NaN);
        }
        finally
        {
            backend?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Host time from the line announcing dd to dd's "records out" line, or null.</summary>
    public static TimeSpan? LinuxDdWindow(IReadOnlyList<ConsoleLine> lines)
    {
        var start = lines.FirstOrDefault(l => l.Text.StartsWith("LINUX-COMPARE: hwrng", StringComparison.Ordinal));
        var end = lines.FirstOrDefault(l => l.Text.Contains("records out", StringComparison.Ordinal));
        return start == null || end == null || end.At <= start.At ? null : end.At - start.At;
    }

    // What QEMU's built-in device reads from (rng-random on /dev/urandom), read here alone.
    private static RngSample UrandomRate(long bytes)
    {
        var buffer = new byte[1 << 20];
        using var urandom = File.OpenHandle("/dev/urandom");
        long cpu0 = ProcCpu.CpuNs(Environment.ProcessId) ?? 0;
        var clock = Stopwatch.StartNew();
        for (long done = 0; done < bytes; done += RandomAccess.Read(urandom, buffer, 0)) { }
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = ((ProcCpu.CpuNs(Environment.ProcessId) ?? 0) - cpu0) / 1e9;
        return RngSample.From(bytes, seconds, double.NaN, double.NaN, double.NaN, cpu, double.NaN);
    }

    // The backend's data path with no guest and no QEMU: a 4-entry ring of 256 KiB chains (the
    // shape GuestOS posts on vhost-user-rng-pci by default) in a sealed memfd, republished and
    // served again and again by RngDevice.Serve with the default source. Its CPU shows under "backend".
    private static unsafe RngSample BackendServeRate(long bytes)
    {
        const uint MiB = 1 << 20, Chain = 256 << 10;
        using var ram = GuestRam.Create(8 * MiB);
        var fds = new FdList();
        fds.Add(ram.Fd);   // not taken over: ram closes it
        using var memory = GuestMemory.Map(ram.Regions, fds, requireSealed: true, _ => { });
        var driver = new GuestDriver(ram, num: 4);
        for (int i = 0; i < 4; i++) driver.WriteDesc(i, MiB * (ulong)(i + 1), Chain);
        var ring = new SplitRing(memory,
            memory.TranslateUser(ram.UserAddrOf(driver.DescGpa), SplitRing.DescTableSize(4)),
            memory.TranslateUser(ram.UserAddrOf(driver.AvailGpa), SplitRing.AvailRingSize(4)),
            memory.TranslateUser(ram.UserAddrOf(driver.UsedGpa), SplitRing.UsedRingSize(4)),
            4, nextAvail: 0, nextUsed: 0, eventIdx: true, indirect: true);
        using var source = new CsprngEntropySource();
        var device = new VhostUserRng.Rng.RngDevice(source, null, MonotonicClock.NowNs);
        var chain = new DescriptorChain();
        long cpu0 = ProcCpu.CpuNs(Environment.ProcessId) ?? 0;
        var clock = Stopwatch.StartNew();
        ulong done = 0;
        while (done < (ulong)bytes)
        {
            driver.Publish(0, 1, 2, 3);
            done += device.Serve(ring, memory, chain).Bytes;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = ((ProcCpu.CpuNs(Environment.ProcessId) ?? 0) - cpu0) / 1e9;
        return RngSample.From(done, seconds, double.NaN, double.NaN, double.NaN, cpu, double.NaN);
    }
}
