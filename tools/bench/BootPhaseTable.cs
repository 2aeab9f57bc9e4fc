using System.Globalization;
using GuestOS.Runner;

namespace GuestOS.Bench;

/// <summary>One architecture's figures for a phase: medians over the runs (NaN: never reached / never repeated).</summary>
public sealed record BootPhaseFigures(double Us, double Accesses, double AgainUs);

/// <summary>A row of the boot table: a phase (or "kernel entry to DRIVER_OK"), per architecture, and what bounds it under TCG.</summary>
public sealed record BootPhaseRow(string Phase, IReadOnlyDictionary<string, BootPhaseFigures> ByArch, string Bound);

public static class BootPhaseTable
{
    public const string Total = "kernel entry to DRIVER_OK";

    /// <summary>
    /// What bounds each phase under TCG, from the counts beside it and the phases run twice
    /// (README, "Boot to DRIVER_OK"): translation shows as a first run far slower than the
    /// second with no more accesses; trapped accesses as a cost that stays.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Bounds = new Dictionary<string, string>
    {
        ["memory"] = "first-execution translation (no device access): boot information, GC statics; arm64 also its first device-tree walks",
        ["banner"] = "console bytes: a status read and a data write each, both trapped, and a host write per byte (arm64: QEMU's PL011 also updates the GIC per byte)",
        ["clock"] = "x86: one PIT read-back (4 port accesses), no wait once the boot has run 1 ms; arm64: CNTFRQ",
        ["interrupts"] = "translation, and trapped MMIO: IOAPIC redirection entries / GIC distributor",
        ["firmware"] = "translation of the MCFG and DSDT (x86) / device-tree (arm64) walks: no accesses; the second run is a fraction",
        ["pci"] = "translation: the configuration reads are about 1 us each (second run); arm64 also sizes and assigns every BAR",
        ["transport"] = "QEMU rebuilding its memory map for each command-register change: x86 sizes the bound function's BARs (decoding off, on) and both enable it; capability walk; translation",
        ["bring-up"] = "status and queue registers (trapped), ring and buffer allocation, MSI-X / ITS routes; translation",
        [Total] = "BENCH-DRIVER_OK's median (the phases' medians need not add up to it)",
    };

    /// <summary>Medians per phase and architecture over <paramref name="runs"/> (each a boot's phases
    /// and its DRIVER_OK guest time), in boot order, then the total row.</summary>
    public static IReadOnlyList<BootPhaseRow> Rows(IReadOnlyDictionary<string, IReadOnlyList<(GuestBootPhases Phases, long DriverOkUs)>> runs)
    {
        var rows = new List<BootPhaseRow>();
        foreach (var phase in GuestBootPhases.Names)
        {
            var byArch = runs.ToDictionary(r => r.Key, r => new BootPhaseFigures(
                RngTable.Median(r.Value.Select(x => Of(x.Phases.Phases, phase, p => p.Us))),
                RngTable.Median(r.Value.Select(x => Of(x.Phases.Phases, phase, p => p.Accesses))),
                RngTable.Median(r.Value.Select(x => Of(x.Phases.Again, phase, p => p.Us)))));
            rows.Add(new BootPhaseRow(phase, byArch, Bounds[phase]));
        }
        rows.Add(new BootPhaseRow(Total, runs.ToDictionary(r => r.Key, r => new BootPhaseFigures(
            RngTable.Median(r.Value.Select(x => (double)x.DriverOkUs)),
            RngTable.Median(r.Value.Select(x => (double)x.Phases.Phases.Sum(p => p.Accesses))), double.NaN)), Bounds[Total]));
        return rows;
    }

    private static double Of(IReadOnlyList<BootPhaseTime> phases, string phase, Func<BootPhaseTime, long> figure)
        => phases.FirstOrDefault(p => p.Phase == phase) is { } p ? figure(p) : double.NaN;

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>One markdown table, the architectures side by side in the order given.</summary>
    public static IEnumerable<string> Format(IReadOnlyList<string> arches, IReadOnlyList<BootPhaseRow> rows)
    {
        yield return "| phase | " + string.Join(" | ", arches.Select(a => $"{a} us | {a} accesses | {a} us, second run")) + " | bounded under TCG by |";
        yield return "|---|" + string.Concat(arches.Select(_ => "---:|---:|---:|")) + "---|";
        foreach (var r in rows)
            yield return $"| {r.Phase} | " + string.Join(" | ", arches.Select(a => r.ByArch.TryGetValue(a, out var f)
                ? $"{F(f.Us)} | {F(f.Accesses)} | {F(f.AgainUs)}" : "- | - | -")) + $" | {r.Bound} |";
    }
}
