using System.Globalization;
using GuestOS.Runner;

namespace GuestOS.Bench;

/// <summary>One architecture's figures for a phase: medians over the timed runs (NaN: never reached /
/// never repeated), and from the one logged boot the TBs QEMU translated and its memory-map rebuilds,
/// with the translation time those TBs account for at the architecture's cost per TB.</summary>
public sealed record BootPhaseFigures(double Us, double Accesses, double AgainUs,
                                      double Blocks = double.NaN, double MemoryMapRebuilds = double.NaN, double TranslationUs = double.NaN);

/// <summary>A row of the boot table: a phase (or "kernel entry to DRIVER_OK"), per architecture, and what bounds it under TCG.</summary>
public sealed record BootPhaseRow(string Phase, IReadOnlyDictionary<string, BootPhaseFigures> ByArch, string Bound);

public static class BootPhaseTable
{
    public const string Total = "kernel entry to DRIVER_OK";

    /// <summary>
    /// Medians per phase and architecture over the timed runs (each a boot's phases and its
    /// DRIVER_OK guest time), in boot order, then the total row. With a translation profile for
    /// an architecture (its logged boot, <see cref="TranslationProfile"/>), each phase also gets
    /// the TBs translated in it and their cost: the phases run twice (BENCH-BOOT-AGAIN) lose their
    /// translation the second time, so (first - second) / TBs is what a TB costs on this host.
    /// </summary>
    public static IReadOnlyList<BootPhaseRow> Rows(IReadOnlyDictionary<string, IReadOnlyList<(GuestBootPhases Phases, long DriverOkUs)>> runs,
                                                   IReadOnlyDictionary<string, IReadOnlyList<PhaseTranslation>>? profiles = null)
    {
        var timed = runs.ToDictionary(r => r.Key, r => GuestBootPhases.Names.ToDictionary(phase => phase, phase => new BootPhaseFigures(
            RngTable.Median(r.Value.Select(x => Of(x.Phases.Phases, phase, p => p.Us))),
            RngTable.Median(r.Value.Select(x => Of(x.Phases.Phases, phase, p => p.Accesses))),
            RngTable.Median(r.Value.Select(x => Of(x.Phases.Again, phase, p => p.Us))))));
        foreach (var (arch, profile) in profiles ?? new Dictionary<string, IReadOnlyList<PhaseTranslation>>())
        {
            if (!timed.TryGetValue(arch, out var phases)) continue;
            double usPerBlock = UsPerBlock(phases, profile);
            foreach (var t in profile.Where(t => phases.ContainsKey(t.Phase)))
                phases[t.Phase] = phases[t.Phase] with { Blocks = t.Blocks, MemoryMapRebuilds = t.MemoryMapRebuilds, TranslationUs = t.Blocks * usPerBlock };
        }

        var rows = GuestBootPhases.Names.Select(phase =>
        {
            var byArch = timed.ToDictionary(t => t.Key, t => t.Value[phase]);
            return new BootPhaseRow(phase, byArch, Bound(byArch));
        }).ToList();
        var total = runs.ToDictionary(r => r.Key, r => new BootPhaseFigures(
            RngTable.Median(r.Value.Select(x => (double)x.DriverOkUs)),
            RngTable.Median(r.Value.Select(x => (double)x.Phases.Phases.Sum(p => p.Accesses))), double.NaN,
            rows.Sum(row => row.ByArch[r.Key].Blocks), rows.Sum(row => row.ByArch[r.Key].MemoryMapRebuilds),
            rows.Sum(row => row.ByArch[r.Key].TranslationUs)));
        rows.Add(new BootPhaseRow(Total, total, Bound(total)));
        return rows;
    }

    /// <summary>Microseconds per translated TB: what the phases run twice lost the second time,
    /// over the TBs translated in their first run (NaN without such a phase).</summary>
    public static double UsPerBlock(IReadOnlyDictionary<string, BootPhaseFigures> phases, IReadOnlyList<PhaseTranslation> profile)
    {
        var twice = profile.Where(t => t.Blocks > 0 && phases.TryGetValue(t.Phase, out var f) && !double.IsNaN(f.AgainUs)).ToList();
        double saved = twice.Sum(t => Math.Max(0, phases[t.Phase].Us - phases[t.Phase].AgainUs));
        int blocks = twice.Sum(t => t.Blocks);
        return blocks == 0 ? double.NaN : saved / blocks;
    }

    /// <summary>What the figures say bounds the phase, per architecture: the share of its time the
    /// translated TBs account for, and what else it did (register accesses, memory-map rebuilds).</summary>
    private static string Bound(IReadOnlyDictionary<string, BootPhaseFigures> byArch) =>
        string.Join("; ", byArch.Where(a => !double.IsNaN(a.Value.Us)).Select(a =>
        {
            var f = a.Value;
            var parts = new List<string>();
            if (!double.IsNaN(f.TranslationUs))
                parts.Add($"translation ~{F(Math.Min(100, 100 * f.TranslationUs / f.Us))}% ({F(f.Blocks)} TBs)");
            if (f.Accesses > 0) parts.Add($"{F(f.Accesses)} trapped accesses");
            if (f.MemoryMapRebuilds > 0) parts.Add($"{F(f.MemoryMapRebuilds)} memory-map rebuilds");
            return $"{a.Key}: " + (parts.Count == 0 ? "no translation profile, no accesses" : string.Join(", ", parts));
        }));

    private static double Of(IReadOnlyList<BootPhaseTime> phases, string phase, Func<BootPhaseTime, long> figure)
        => phases.FirstOrDefault(p => p.Phase == phase) is { } p ? figure(p) : double.NaN;

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>One markdown table, the architectures side by side in the order given.</summary>
    public static IEnumerable<string> Format(IReadOnlyList<string> arches, IReadOnlyList<BootPhaseRow> rows)
    {
        yield return "| phase | " + string.Join(" | ", arches.Select(a => $"{a} us | {a} accesses | {a} TBs translated | {a} us, second run")) + " | bounded under TCG by |";
        yield return "|---|" + string.Concat(arches.Select(_ => "---:|---:|---:|---:|")) + "---|";
        foreach (var r in rows)
            yield return $"| {r.Phase} | " + string.Join(" | ", arches.Select(a => r.ByArch.TryGetValue(a, out var f)
                ? $"{F(f.Us)} | {F(f.Accesses)} | {F(f.Blocks)} | {F(f.AgainUs)}" : "- | - | - | -")) + $" | {r.Bound} |";
    }
}
