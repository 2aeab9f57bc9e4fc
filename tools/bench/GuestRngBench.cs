using System.Text.Json;
using GuestOS.Compare;
using GuestOS.Runner;

namespace GuestOS.Bench;

// The guest's own view of the entropy path (issue: benchmark mode). Boots each configuration
// with `rng.bench=N` on the same QEMU command line and device, several times, parses
//   BENCH-DRIVER_OK rng guest_us=T buffers=B bufsize=S irq=msix ring=split
//   BENCH-END rng bytes=N guest_us=T irqs=I kicks=K completions=C
// and prints one table (medians), also written to build/bench/guest-rng.json. Linux 6.1 (the
// Debian kernel `make linux` fetches) reads from the same device on the same QEMU command line
// in the same invocation; every row's throughput is also given as a multiple of Linux's.
public static class GuestRngBench
{
    public sealed record Config(string Name, string Arch, string Append, string DeviceProperties, long Bytes);

    public sealed record Result(string Name, string Arch, string Ring, string Irq, int Buffers, int BufferSize, long Bytes,
                                double MBps, double BytesPerInterrupt, double KicksPerMiB, double InterruptsPerMiB,
                                double DriverOkMs, int Runs);

    public static IReadOnlyList<Config> DefaultConfigs()
    {
        var list = new List<Config>();
        foreach (var arch in new[] { "x86_64", "aarch64" })
        {
            list.Add(new Config("GuestOS split ring, queue full", arch, "", "", 256L << 20));
            list.Add(new Config("GuestOS packed ring, queue full", arch, "", ",packed=on", 256L << 20));
            list.Add(new Config("GuestOS in Linux's shape (1 x 64 B)", arch, "rng.buffers=1 rng.bufsize=64", "", 1L << 20));
        }
        return list;
    }

    public static int Run(string[] args)
    {
        int runs = args.Length > 1 ? int.Parse(args[1]) : 3;
        var results = new List<Result>();
        foreach (var arch in new[] { "x86_64", "aarch64" })
        {
            Console.Error.WriteLine($"guest-rng: {arch} Linux 6.1 ({runs} runs of 1 MiB)");
            results.Add(MeasureLinux(arch, 1 << 20, runs));
        }
        foreach (var c in DefaultConfigs())
        {
            Console.Error.WriteLine($"guest-rng: {c.Arch} {c.Name} ({runs} runs of {c.Bytes >> 20} MiB)");
            results.Add(Measure(c, runs));
        }
        Print(results);
        string json = Path.Combine(Paths.Root, "build", "bench", "guest-rng.json");
        Directory.CreateDirectory(Path.GetDirectoryName(json)!);
        File.WriteAllText(json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"written: {json}");
        return 0;
    }

    public static Result Measure(Config c, int runs)
    {
        var samples = new List<(double mbps, double perIrq, double kicksPerMiB, double irqsPerMiB, double driverOkMs)>();
        string ring = "?", irq = "?";
        int buffers = 0, bufsize = 0;
        for (int i = 0; i < runs; i++)
        {
            var arch = TargetArchNames.Parse(c.Arch);
            var run = QemuRunner.Run(new RunOptions
            {
                KernelPath = Paths.Build(c.Arch, "kernel.elf"),
                Arch = arch,
                Append = $"rng.bench={c.Bytes} quiet {c.Append}".Trim(),
                QemuExtra = ["-object", "rng-random,id=rng0,filename=/dev/urandom"],
                Devices = [$"virtio-rng-pci,rng=rng0,disable-legacy=on{c.DeviceProperties}"],
                Timeout = TimeSpan.FromSeconds(300),
            });
            if (!run.Passed) throw new InvalidOperationException($"{c.Arch} {c.Name}: the guest failed\n{run.Report()}");
            var b = GuestBenchLines.Parse(run);
            double bytes = b.Bytes, us = b.WindowUs, irqs = b.Interrupts, kicks = b.Kicks;
            double mib = bytes / (1 << 20);
            samples.Add((bytes / us, irqs == 0 ? double.PositiveInfinity : bytes / irqs, kicks / mib, irqs / mib,
                         b.DriverOkUs / 1000.0));
            buffers = b.Buffers;
            bufsize = b.BufferSize;
            irq = b.Irq;
            ring = b.Ring;
        }
        return new Result(c.Name, c.Arch, ring, irq, buffers, bufsize, c.Bytes,
                          Median(samples.Select(s => s.mbps)), Median(samples.Select(s => s.perIrq)),
                          Median(samples.Select(s => s.kicksPerMiB)), Median(samples.Select(s => s.irqsPerMiB)),
                          Median(samples.Select(s => s.driverOkMs)), runs);
    }

    // Linux 6.1's virtio-rng through /dev/hwrng: dd in 64-byte reads (virtio-rng's buffer size;
    // larger reads change nothing, the driver hands out one 64-byte buffer at a time). Busybox
    // has no sub-second clock, so the window is the host arrival of the line before dd to
    // dd's "records out" line: serial output, about a millisecond of error on seconds.
    public static Result MeasureLinux(string arch, int bytes, int runs)
    {
        var target = TargetArchNames.Parse(arch);
        var linux = new LinuxGuest(Path.Combine(Paths.Root, "build", "linux", arch), target);
        var mbps = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            RunOptions o = linux.Options(bytes);
            o = o with
            {
                QemuExtra = [.. o.QemuExtra, "-object", "rng-random,id=rng0,filename=/dev/urandom"],
                Devices = ["virtio-rng-pci,rng=rng0,disable-legacy=on"],
            };
            var run = QemuRunner.Run(o);
            var start = run.Lines.FirstOrDefault(l => l.Text.StartsWith("LINUX-COMPARE: hwrng", StringComparison.Ordinal));
            var end = run.Lines.FirstOrDefault(l => l.Text.Contains("records out", StringComparison.Ordinal));
            if (start == null || end == null) throw new InvalidOperationException($"{arch} Linux: no dd timing\n{run.Report()}");
            mbps.Add(bytes / (end.At - start.At).TotalSeconds / 1e6);
        }
        return new Result("Linux 6.1 virtio-rng (dd from /dev/hwrng)", arch, "-", "-", 1, 64, bytes,
                          Median(mbps), double.NaN, double.NaN, double.NaN, double.NaN, runs);   // counts: `make compare`
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string F(double v, string format) => double.IsNaN(v) ? "-" : v.ToString(format);

    public static void Print(IReadOnlyList<Result> results)
    {
        Console.WriteLine();
        Console.WriteLine("| arch | configuration | ring | irq | buffers | MB/s | x Linux | bytes/interrupt | interrupts/MiB | kicks/MiB | kernel entry to DRIVER_OK (ms) |");
        Console.WriteLine("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            double linux = results.First(x => x.Arch == r.Arch && x.Name.StartsWith("Linux", StringComparison.Ordinal)).MBps;
            string perIrq = double.IsInfinity(r.BytesPerInterrupt) ? "no interrupts" : F(r.BytesPerInterrupt, "F0");
            Console.WriteLine($"| {r.Arch} | {r.Name} | {r.Ring} | {r.Irq} | {r.Buffers} x {r.BufferSize} | {r.MBps:F2} | {r.MBps / linux:F0}x | " +
                              $"{perIrq} | {F(r.InterruptsPerMiB, "F1")} | {F(r.KicksPerMiB, "F1")} | {F(r.DriverOkMs, "F2")} |");
        }
        Console.WriteLine("(medians; MB = 10^6 bytes; GuestOS times are guest time from its own clock; Linux's interrupt and kick counts: `make compare`)");
    }
}
