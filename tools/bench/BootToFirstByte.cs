using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using GuestOS.Runner;

namespace GuestOS.Bench;

// QEMU start to the first console byte: GuestOS's C# kernel against an assembly-only kernel on
// the same QEMU command line. QEMU's own start-up dominates both; the ratio shows what the
// C# kernel adds before it speaks (issue 17: within 1.1x on both architectures).
[SimpleJob(RunStrategy.Monitoring, warmupCount: 5, iterationCount: 40)]
public class BootToFirstByte
{
    [Params("x86_64", "aarch64")]
    public string Arch { get; set; } = "x86_64";

    private IReadOnlyList<string> baseline = [], guestos = [];

    [GlobalSetup]
    public void Setup()
    {
        var arch = TargetArchNames.Parse(Arch);
        baseline = CommandLine(arch, Paths.Build(Arch, "baseline.elf"));
        guestos = CommandLine(arch, Paths.Build(Arch, "kernel.elf"));
    }

    // Each operation also stops QEMU, which takes longer the more guest memory was touched:
    // guest-boot's FirstByteMs stops its clock at the byte instead.
    [Benchmark(Baseline = true, Description = "assembly-only kernel")]
    public int AssemblyOnly() => FirstByte(baseline, out _);

    [Benchmark(Description = "GuestOS C# kernel")]
    public int GuestOS() => FirstByte(guestos, out _);

    public static IReadOnlyList<string> CommandLine(TargetArch arch, string kernel)
        => QemuCommandLine.Build(new RunOptions { KernelPath = kernel, Arch = arch });

    /// <summary>Milliseconds from starting QEMU with <paramref name="argv"/> to its first console byte.</summary>
    public static double FirstByteMs(IReadOnlyList<string> argv)
    {
        FirstByte(argv, out TimeSpan at);
        return at.TotalMilliseconds;
    }

    // Starts QEMU, returns the first byte it prints (and when it came), and stops it.
    private static int FirstByte(IReadOnlyList<string> argv, out TimeSpan at)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var qemu = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + argv[0]);
        int first = qemu.StandardOutput.BaseStream.ReadByte();
        at = clock.Elapsed;
        try { qemu.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        qemu.WaitForExit();
        if (first < 0) throw new InvalidOperationException("QEMU printed nothing: " + qemu.StandardError.ReadToEnd());
        return first;
    }
}
