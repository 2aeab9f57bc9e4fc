using System.Text.RegularExpressions;

namespace GuestOS.Runner;

/// <summary>
/// The lines the kernel prints in benchmark mode (rng.bench=N, kernel/Workload.cs), parsed in
/// one place for tools/bench and the tests:
///   BENCH-DRIVER_OK rng guest_us=T buffers=B bufsize=S irq=msix|wired|poll ring=split|packed transport=pci|pci-legacy|mmio|mmio-legacy
///   BENCH-START rng
///   BENCH-END rng bytes=N guest_us=T irqs=I kicks=K completions=C
///   BENCH-COPY bytes=N guest_us=T      (the same copies with no device: the guest's own ceiling)
/// </summary>
public sealed partial record GuestBenchLines(long DriverOkUs, int Buffers, int BufferSize, string Irq, string Ring,
                                             long Bytes, long WindowUs, long Interrupts, long Kicks, long Completions,
                                             string Transport, long CopyBytes, long CopyUs)
{
    /// <summary>The run's BENCH lines, or an exception naming what is missing or malformed.</summary>
    public static GuestBenchLines Parse(RunResult run)
    {
        var ok = DriverOkLine().Match(Single(run, "BENCH-DRIVER_OK rng"));
        var end = EndLine().Match(Single(run, "BENCH-END rng"));
        var copy = CopyLine().Match(Single(run, "BENCH-COPY "));
        if (!ok.Success || !end.Success || !copy.Success) throw new FormatException("unparsable BENCH lines:\n" + run.Report());
        if (!run.Lines.Any(l => l.Text == "BENCH-START rng")) throw new FormatException("no BENCH-START line:\n" + run.Report());
        return new GuestBenchLines(long.Parse(ok.Groups[1].Value), int.Parse(ok.Groups[2].Value), int.Parse(ok.Groups[3].Value),
                                   ok.Groups[4].Value, ok.Groups[5].Value,
                                   long.Parse(end.Groups[1].Value), long.Parse(end.Groups[2].Value), long.Parse(end.Groups[3].Value),
                                   long.Parse(end.Groups[4].Value), long.Parse(end.Groups[5].Value), ok.Groups[6].Value,
                                   long.Parse(copy.Groups[1].Value), long.Parse(copy.Groups[2].Value));
    }

    private static string Single(RunResult run, string prefix)
    {
        var lines = run.Lines.Where(l => l.Text.StartsWith(prefix)).ToList();
        if (lines.Count != 1) throw new FormatException($"expected one '{prefix}' line, found {lines.Count}:\n" + run.Report());
        return lines[0].Text;
    }

    [GeneratedRegex(@"^BENCH-DRIVER_OK rng guest_us=(\d+) buffers=(\d+) bufsize=(\d+) irq=(msix|wired|poll) ring=(split|packed) transport=(pci|pci-legacy|mmio|mmio-legacy)$")]
    private static partial Regex DriverOkLine();

    [GeneratedRegex(@"^BENCH-END rng bytes=(\d+) guest_us=(\d+) irqs=(\d+) kicks=(\d+) completions=(\d+)$")]
    private static partial Regex EndLine();

    [GeneratedRegex(@"^BENCH-COPY bytes=(\d+) guest_us=(\d+)$")]
    private static partial Regex CopyLine();
}
