namespace GuestOS.Compare.Spec;

/// <summary>
/// What `make check-guest` prints: each broken rule with its section, level, quoted text and
/// evidence (trace file:line, time, what the device saw, the raw line), then which rules held
/// and which could not be observed; and the exit status.
/// </summary>
public static class CheckReport
{
    public const int ExitClean = 0;
    /// <summary>At least one MUST rule was broken.</summary>
    public const int ExitMustViolated = 1;
    /// <summary>The guest never wrote device_status: there was no driver to judge.</summary>
    public const int ExitNeverReset = 3;

    public const string NeverReset = "the guest never reset the device: it never wrote device_status, so there was no driver to judge";

    public static int Write(TextWriter output, DeviceTrace trace, IReadOnlyList<RuleVerdict> verdicts, string traceFile)
    {
        if (!trace.Touched)
        {
            output.WriteLine($"check-guest: {NeverReset}");
            return ExitNeverReset;
        }
        foreach (var v in verdicts.Where(v => v.Outcome == RuleOutcome.Violated))
        {
            output.WriteLine($"{v.Rule.LevelName} {v.Rule.Section} {v.Rule.Id}: VIOLATED");
            output.WriteLine($"  \"{v.Rule.SpecText}\"");
            foreach (var f in v.Findings)
            {
                output.WriteLine($"  - {f.What}");
                foreach (var e in f.Evidence) output.WriteLine("      " + Evidence(e, traceFile));
            }
        }
        var held = verdicts.Where(v => v.Outcome == RuleOutcome.Holds).ToList();
        var broken = verdicts.Where(v => v.Outcome == RuleOutcome.Violated).ToList();
        output.WriteLine($"check-guest: {verdicts.Count - verdicts.Count(v => v.Outcome == RuleOutcome.NotObservable)} rules checked on {trace.Transport}: " +
                         $"{held.Count} hold, {broken.Count} violated ({broken.Count(v => v.Rule.Level == RuleLevel.Must)} MUST)");
        if (held.Count > 0) output.WriteLine("  hold: " + string.Join(", ", held.Select(v => $"{v.Rule.Section} {v.Rule.Id}")));
        foreach (var v in verdicts.Where(v => v.Outcome == RuleOutcome.NotObservable))
            output.WriteLine($"  not observable: {v.Rule.Section} {v.Rule.Id} ({v.Why})");
        return broken.Any(v => v.Rule.Level == RuleLevel.Must) ? ExitMustViolated : ExitClean;
    }

    /// <summary>"guestos.trace:4027  1796587831.603403  notify queue 0  | 24762@...:virtio_queue_notify ...".</summary>
    public static string Evidence(DeviceEvent e, string traceFile) =>
        $"{Path.GetFileName(traceFile)}:{e.Source.LineNumber}  {e.Source.Stamp}  {e.Describe()}\n" +
        $"        | {e.Source.Raw}";
}
