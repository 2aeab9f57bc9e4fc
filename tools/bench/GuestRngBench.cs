using System.Text.Json;
using System.Text.RegularExpressions;
using GuestOS.Runner;

namespace GuestOS.Bench;

// The guest's own view of the entropy path (issue: benchmark mode). Boots each configuration
// with `rng.bench=N` on the same QEMU command line and device, several times, parses
//   BENCH-DRIVER_OK rng guest_us=T buffers=B bufsize=S irq=msix ring=split
//   BENCH-END rng bytes=N guest_us=T irqs=I kicks=K completions=C
// and prints one table (medians), also written to build/bench/guest-rng.json. Every row runs
// in this one invocation, side by side, so ratios between rows are meaningful.
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
        foreach (var c in DefaultConfigs())
        {
            Console.Error.WriteLine($"guest-rng: {c.Arch} {c.Name} ({runs} runs of {c.Bytes >> 20} MiB)");
            results.Add(Measure(c, runs));
        }
        Print(results);
        string json = Path.Combine(Paths.Root, "build", "bench", "guest-rng.json");
        Directory.CreateDirectory(Path.GetDirectoryName(json)!);
        File.WriteAllText(json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
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
            var ok = Regex.Match(run.Lines.Single(l => l.Text.StartsWith("BENCH-DRIVER_OK rng")).Text,
                                 @"guest_us=(\d+) buffers=(\d+) bufsize=(\d+) irq=(\w+) ring=(\w+)");
            var end = Regex.Match(run.Lines.Single(l => l.Text.StartsWith("BENCH-END rng")).Text,
                                  @"bytes=(\d+) guest_us=(\d+) irqs=(\d+) kicks=(\d+)");
            if (!ok.Success || !end.Success) throw new InvalidOperationException("unparsable BENCH lines:\n" + run.Report());
            double bytes = long.Parse(end.Groups[1].Value), us = long.Parse(end.Groups[2].Value);
            double irqs = long.Parse(end.Groups[3].Value), kicks = long.Parse(end.Groups[4].Value);
            double mib = bytes / (1 << 20);
            samples.Add((bytes / us, irqs == 0 ? double.PositiveInfinity : bytes / irqs, kicks / mib, irqs / mib,
                         long.Parse(ok.Groups[1].Value) / 1000.0));
            buffers = int.Parse(ok.Groups[2].Value);
            bufsize = int.Parse(ok.Groups[3].Value);
            irq = ok.Groups[4].Value;
            ring = ok.Groups[5].Value;
        }
        return new Result(c.Name, c.Arch, ring, irq, buffers, bufsize, c.Bytes,
                          Median(samples.Select(s => s.mbps)), Median(samples.Select(s => s.perIrq)),
                          Median(samples.Select(s => s.kicksPerMiB)), Median(samples.Select(s => s.irqsPerMiB)),
                          Median(samples.Select(s => s.driverOkMs)), runs);
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static void Print(IReadOnlyList<Result> results)
    {
        Console.WriteLine();
        Console.WriteLine("| arch | configuration | ring | irq | buffers | MB/s | bytes/interrupt | interrupts/MiB | kicks/MiB | kernel entry to DRIVER_OK |");
        Console.WriteLine("|---|---|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            Console.WriteLine($"| {r.Arch} | {r.Name} | {r.Ring} | {r.Irq} | {r.Buffers} x {r.BufferSize} | {r.MBps:F2} | " +
                              $"{(double.IsInfinity(r.BytesPerInterrupt) ? "no interrupts" : r.BytesPerInterrupt.ToString("F0"))} | " +
                              $"{r.InterruptsPerMiB:F1} | {r.KicksPerMiB:F1} | {r.DriverOkMs:F2} ms |");
        Console.WriteLine("(medians; MB = 10^6 bytes; times are guest time from the kernel's clock)");
    }
}
