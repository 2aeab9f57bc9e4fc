using System.Text.RegularExpressions;

namespace GuestOS.Runner;

/// <summary>One boot phase as the kernel timed it: microseconds of guest time and the register
/// accesses made in it (each a trip into QEMU under TCG).</summary>
public sealed record BootPhaseTime(string Phase, long Us, long Accesses);

/// <summary>
/// The boot breakdown the kernel prints in benchmark mode (rng.bench=N, kernel/hal/BootPhases.cs),
/// parsed in one place for tools/bench and the tests:
///   BENCH-BOOT phase=P us=T accesses=A         one per phase reached, in boot order; T is from the
///                                              end of the phase before (kernel entry for the first)
///   BENCH-BOOT-AGAIN phase=P us=T accesses=A   a phase run once more after the window, its code
///                                              translated by then (firmware, pci)
/// </summary>
public sealed partial record GuestBootPhases(IReadOnlyList<BootPhaseTime> Phases, IReadOnlyList<BootPhaseTime> Again)
{
    /// <summary>The phases in boot order (drivers/BootPhase.cs).</summary>
    public static readonly IReadOnlyList<string> Names = ["memory", "banner", "clock", "interrupts", "firmware", "pci", "transport", "bring-up"];

    /// <summary>Kernel entry to the end of the last phase reached (DRIVER_OK when bring-up is there).</summary>
    public long TotalUs => Phases.Sum(p => p.Us);

    /// <summary>The run's phase lines, or an exception naming what is missing or malformed.</summary>
    public static GuestBootPhases Parse(RunResult run)
    {
        try { return Parse(run.Lines.Select(l => l.Text)); }
        catch (FormatException e) { throw new FormatException(e.Message + "\n" + run.Report(), e); }
    }

    /// <summary>The phase lines among <paramref name="lines"/>: every BENCH-BOOT line must parse and
    /// name a known phase, at most once and in boot order; at least one must be there.</summary>
    public static GuestBootPhases Parse(IEnumerable<string> lines)
    {
        var phases = new List<BootPhaseTime>();
        var again = new List<BootPhaseTime>();
        foreach (var line in lines.Where(l => l.StartsWith("BENCH-BOOT", StringComparison.Ordinal)))
        {
            var m = PhaseLine().Match(line);
            if (!m.Success) throw new FormatException($"unparsable boot phase line: '{line}'");
            var time = new BootPhaseTime(m.Groups[2].Value, long.Parse(m.Groups[3].Value), long.Parse(m.Groups[4].Value));
            int index = Names.ToList().IndexOf(time.Phase);
            if (index < 0) throw new FormatException($"unknown boot phase '{time.Phase}' in '{line}' (known: {string.Join(", ", Names)})");
            var list = m.Groups[1].Success ? again : phases;
            if (list.Count > 0 && Names.ToList().IndexOf(list[^1].Phase) >= index)
                throw new FormatException($"boot phase '{time.Phase}' repeated or out of order after '{list[^1].Phase}': '{line}'");
            list.Add(time);
        }
        if (phases.Count == 0) throw new FormatException("no BENCH-BOOT lines");
        return new GuestBootPhases(phases, again);
    }

    [GeneratedRegex(@"^BENCH-BOOT(-AGAIN)? phase=(\S+) us=(\d+) accesses=(\d+)$")]
    private static partial Regex PhaseLine();
}
