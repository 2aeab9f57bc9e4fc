using System.Text.Json;
using GuestOS.Runner;

namespace GuestOS.Bench;

// Kernel entry to DRIVER_OK, phase by phase (issue 17). Each architecture boots rng.bench=1M quiet
// with QEMU's built-in virtio-rng-pci (q35, virt), the architectures interleaved run by run so a
// busy host slows both alike. The kernel times its phases itself (BENCH-BOOT lines) and repeats
// the firmware walks and the PCI enumeration once after the window (BENCH-BOOT-AGAIN); the table
// gives medians and what bounds each phase. Then QEMU start to the first console byte, GuestOS
// against the assembly-only kernel, the two alternating run by run, so that a change of host
// load falls on both (FirstByte). Written to build/bench/guest-boot.json.
public static class GuestBootBench
{
    private static readonly string[] Arches = ["x86_64", "aarch64"];
    private const int FirstByteRuns = 21;

    public static int Run(string[] args)
    {
        int runs = args.Length > 1 ? int.Parse(args[1]) : 5;
        // Every image first: a missing one is said before minutes of boots, not after them.
        var kernels = Arches.ToDictionary(a => a, a => (GuestOS: Paths.Build(a, "kernel.elf"), Baseline: Paths.Build(a, "baseline.elf")));
        var samples = Arches.ToDictionary(a => a, _ => new List<(GuestBootPhases, long)>());
        for (int i = 0; i < runs; i++)
            foreach (var arch in Arches)
            {
                Console.Error.WriteLine($"guest-boot: run {i + 1}/{runs}: {arch}");
                var run = QemuRunner.Run(new RunOptions
                {
                    KernelPath = kernels[arch].GuestOS,
                    Arch = TargetArchNames.Parse(arch),
                    Append = "rng.bench=1M quiet",
                    QemuExtra = GuestRngBench.BuiltInDevice,
                    Timeout = TimeSpan.FromSeconds(120),
                });
                if (!run.Passed) throw new InvalidOperationException($"{arch}: the guest failed\n{run.Report()}");
                samples[arch].Add((GuestBootPhases.Parse(run), GuestBenchLines.Parse(run).DriverOkUs));
            }

        // One more boot per architecture, logged by QEMU: what it translated and how often it
        // rebuilt its memory map in each phase (slowed by the logging, so counted, not timed).
        var profiles = Arches.ToDictionary(a => a, a => Profile(a, kernels[a].GuestOS));

        var firstByte = Arches.ToDictionary(a => a, _ => (Baseline: new List<double>(), GuestOS: new List<double>()));
        for (int i = 0; i < FirstByteRuns; i++)
            foreach (var arch in Arches)
            {
                var target = TargetArchNames.Parse(arch);
                firstByte[arch].Baseline.Add(FirstByte.Ms(FirstByte.CommandLine(target, kernels[arch].Baseline)));
                firstByte[arch].GuestOS.Add(FirstByte.Ms(FirstByte.CommandLine(target, kernels[arch].GuestOS)));
            }
        var firstByteRows = Arches.Select(a => new
        {
            arch = a,
            baselineMs = RngTable.Median(firstByte[a].Baseline),
            guestOsMs = RngTable.Median(firstByte[a].GuestOS),
            // Each GuestOS boot against the baseline boot just before it: the host's load swings
            // (runs fall into a fast and a slow mode here), and a pair shares its moment.
            ratio = RngTable.Median(firstByte[a].GuestOS.Zip(firstByte[a].Baseline, (g, b) => g / b)),
            fastestRatio = firstByte[a].GuestOS.Min() / firstByte[a].Baseline.Min(),
        }).ToList();

        var rows = BootPhaseTable.Rows(samples.ToDictionary(s => s.Key, s => (IReadOnlyList<(GuestBootPhases, long)>)s.Value), profiles);
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        Console.WriteLine();
        Console.WriteLine("### Kernel entry to DRIVER_OK, phase by phase (guest time, rng.bench quiet, virtio-rng-pci)");
        foreach (var line in BootPhaseTable.Format(Arches, rows)) Console.WriteLine(line);
        Console.WriteLine($"(medians of {runs} runs; accesses: register accesses in the phase, console included; " +
                          $"TBs translated: from one more boot logged by QEMU (-d in_asm,exec,nochain); " +
                          $"second run: the phase repeated after the benchmark window; host load average at the end: {load} on {Environment.ProcessorCount} CPUs)");
        foreach (var arch in Arches)
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{arch}: a translated TB costs ~{BootPhaseTable.UsPerBlock(rows.ToDictionary(r => r.Phase, r => r.ByArch[arch]), profiles[arch]):F1} us " +
                $"(the phases run twice: first minus second run, over their TBs); before DRIVER_OK {rows[^1].ByArch[arch].Blocks:F0} TBs " +
                $"(~{rows[^1].ByArch[arch].TranslationUs / 1000:F1} ms) and {rows[^1].ByArch[arch].MemoryMapRebuilds:F0} memory-map rebuilds"));
        Console.WriteLine();
        Console.WriteLine($"### QEMU start to the first console byte ({FirstByteRuns} alternating runs; target: at most 1.1x)");
        Console.WriteLine("| arch | assembly-only kernel ms (median) | GuestOS ms (median) | ratio (median of pairs) | ratio of the fastest runs |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var r in firstByteRows)
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {r.arch} | {r.baselineMs:F1} | {r.guestOsMs:F1} | {r.ratio:F3} | {r.fastestRatio:F3} |"));
        string json = Path.Combine(Paths.Root, "build", "bench", "guest-boot.json");
        Directory.CreateDirectory(Path.GetDirectoryName(json)!);
        File.WriteAllText(json, JsonSerializer.Serialize(new { runs, loadAverage = load, cpus = Environment.ProcessorCount, arches = Arches, rows, translation = profiles, firstByteRuns = FirstByteRuns, firstByte = firstByteRows },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"written: {json}");
        return 0;
    }

    // The boot as the timed runs make it, with a smaller window after DRIVER_OK (the log of
    // every TB run is ~60-200 MB per boot), read as it is and then deleted.
    private static IReadOnlyList<PhaseTranslation> Profile(string arch, string kernel)
    {
        Console.Error.WriteLine($"guest-boot: {arch}: one boot logged by QEMU for its translation profile");
        string log = Path.Combine(Paths.Root, "build", "bench", $"guest-boot-{arch}.qemu.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        try
        {
            var run = QemuRunner.Run(new RunOptions
            {
                KernelPath = kernel,
                Arch = TargetArchNames.Parse(arch),
                Append = "rng.bench=64K quiet",
                QemuExtra = [.. GuestRngBench.BuiltInDevice, .. TranslationProfile.QemuOptions(log)],
                Timeout = TimeSpan.FromSeconds(120),
            });
            if (!run.Passed) throw new InvalidOperationException($"{arch}: the logged guest failed\n{run.Report()}");
            var (start, end, mark) = TranslationProfile.Symbols(kernel);
            return TranslationProfile.Parse(File.ReadLines(log), start, end, mark, GuestBootPhases.Parse(run).Phases.Select(p => p.Phase).ToList());
        }
        finally { File.Delete(log); }
    }
}
