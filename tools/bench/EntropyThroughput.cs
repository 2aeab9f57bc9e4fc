using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using GuestOS.Runner;

namespace GuestOS.Bench;

// One GuestOS boot that reads 1 MiB of entropy, with QEMU's built-in virtio-rng-pci (backed by
// /dev/urandom) against our vhost-user backend, on the same QEMU command line otherwise (both
// with shared memfd RAM). Boot cost is the same on both sides, so the ratio is the device's.
// Host CPU time per MiB (QEMU, and the backend process) is printed at the end of each case.
[SimpleJob(RunStrategy.Monitoring, warmupCount: 1, iterationCount: 6)]
public class EntropyThroughput
{
    private const int Bytes = 1 << 20;

    [Params("x86_64", "aarch64")]
    public string Arch { get; set; } = "x86_64";

    private VhostUserRngBackend? backend;
    private readonly List<(double qemuMs, double backendMs)> cpu = [];

    [GlobalSetup(Target = nameof(VhostUser))]
    public void StartBackend() => backend = VhostUserRngBackend.StartAsync(Paths.Backend).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Report()
    {
        if (cpu.Count > 0)
        {
            Console.WriteLine($"// host CPU per MiB ({Arch}, {(backend == null ? "built-in" : "vhost-user")}): " +
                              $"QEMU {cpu.Average(c => c.qemuMs):F0} ms, backend {cpu.Average(c => c.backendMs):F1} ms");
        }
        cpu.Clear();
        backend?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        backend = null;
    }

    [Benchmark(Baseline = true, Description = "QEMU built-in virtio-rng-pci")]
    public void BuiltIn() => Boot(["-object", "rng-random,id=rng0,filename=/dev/urandom"], ["virtio-rng-pci,rng=rng0"]);

    [Benchmark(Description = "C# vhost-user backend")]
    public void VhostUser() => Boot(backend!.QemuArguments, []);

    private void Boot(IReadOnlyList<string> extra, IReadOnlyList<string> devices)
    {
        var arch = TargetArchNames.Parse(Arch);
        var options = new RunOptions
        {
            KernelPath = Paths.Build(Arch, "kernel.elf"),
            Arch = arch,
            Append = $"rng.bytes={Bytes} quiet",
            SharedMemory = true,
            QemuExtra = extra,
            Devices = devices,
            Timeout = TimeSpan.FromSeconds(120),
        };
        TimeSpan backendBefore = BackendCpu(), qemuBefore = ReapedChildrenCpu();
        var argv = QemuCommandLine.Build(options);
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        using var qemu = Process.Start(start)!;
        string output = qemu.StandardOutput.ReadToEnd();
        qemu.WaitForExit();
        if (!output.Contains("GUESTOS-VERDICT: PASS")) throw new InvalidOperationException("the guest failed:\n" + output);
        cpu.Add(((ReapedChildrenCpu() - qemuBefore).TotalMilliseconds, (BackendCpu() - backendBefore).TotalMilliseconds));
    }

    // QEMU's CPU time, read once it has exited: Linux adds a reaped child's user and system time
    // to the parent's cutime and cstime (/proc/self/stat fields 16 and 17, in 1/100 s ticks).
    private static TimeSpan ReapedChildrenCpu()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // fields from 3 (state) on
        long ticks = long.Parse(fields[16 - 3]) + long.Parse(fields[17 - 3]);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private TimeSpan BackendCpu() => backend?.ProcessorTime ?? TimeSpan.Zero;
}
