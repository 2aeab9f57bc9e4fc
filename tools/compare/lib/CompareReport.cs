using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>One guest as `make compare` judges it: its bring-up steps, its metrics, and why its run failed (null if it did not).</summary>
public sealed record ComparedGuest(string Name, IReadOnlyList<BringUpStep> Steps, Metrics Metrics, string? Failure)
{
    /// <summary>Linux has no verdict line: it finished if the init script's done marker appeared.</summary>
    public static ComparedGuest Linux(GuestTrace run) => new(run.Name, run.Steps, Metrics.From(run),
        run.Run.Printed(LinuxGuest.DoneMarker) ? null : $"Linux did not finish:\n{run.Run.Report()}");

    /// <summary>Any other guest (GUEST="..."): it failed only if QEMU would not run it; how it ended is its own business.</summary>
    public static ComparedGuest Other(GuestTrace run) => new(run.Name, run.Steps, Metrics.From(run),
        run.Run.Outcome == RunOutcome.QemuError ? $"QEMU did not run the guest:\n{run.Run.Report()}" : null);

    public static ComparedGuest GuestOs(GuestTrace run) => new(run.Name, run.Steps, Metrics.From(run),
        run.Run.Passed ? null : $"GuestOS failed:\n{run.Run.Report()}");
}

/// <summary>
/// What `make compare` prints once both guests have run, and the exit status it ends with:
/// the bring-up side by side, each guest against the virtio 3.1.1 rules, the metrics.
/// </summary>
public static class CompareReport
{
    public const int ExitClean = 0;
    public const int ExitBroken = 1;

    /// <summary>
    /// Writes the report; returns <see cref="ExitClean"/> only if both guests ran to the end and
    /// neither broke a rule, otherwise <see cref="ExitBroken"/> (so a broken rule fails `make`).
    /// </summary>
    public static int Write(TextWriter output, ComparedGuest linux, ComparedGuest guestOs)
    {
        var ok = true;
        foreach (var guest in new[] { linux, guestOs })
        {
            if (guest.Failure is not null)
            {
                ok = false;
                output.WriteLine(guest.Failure);
            }
        }

        var rows = SideBySide.Align(linux.Steps, guestOs.Steps);
        output.WriteLine();
        output.Write(SideBySide.Render(rows, linux.Name, guestOs.Name));
        output.WriteLine($"     {rows.Count(r => r.Same)} same, {rows.Count(r => !r.Same)} different");
        foreach (var guest in new[] { linux, guestOs })
        {
            var violations = BringUpRules.Check(guest.Steps);
            output.WriteLine(violations.Count == 0
                ? $"rules ({guest.Name}): all hold - {BringUpRules.StatusOrder}; {BringUpRules.FeaturesBeforeFeaturesOk}; {BringUpRules.FeaturesOkReadBack}; {BringUpRules.QueueEnabledBeforeDriverOk}"
                : $"rules ({guest.Name}): BROKEN\n  " + string.Join("\n  ", violations));
            ok &= violations.Count == 0;
        }
        output.WriteLine();
        output.Write(Metrics.Render([(linux.Name, linux.Metrics), (guestOs.Name, guestOs.Metrics)]));
        return ok ? ExitClean : ExitBroken;
    }
}
