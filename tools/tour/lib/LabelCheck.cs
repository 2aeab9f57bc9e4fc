using GuestOS.Compare;
using GuestOS.Runner;

namespace GuestOS.Tour;

/// <summary>One `make trace` label and the tour's stack that confirms it (null: none does).</summary>
public sealed record LabelVerdict(TimelineKind Kind, string Label, TourStop? Evidence)
{
    public bool Confirmed => Evidence is not null;
}

/// <summary>
/// `make trace` names QEMU functions beside its trace events (tools/compare/lib/Timeline.cs).
/// Here those names meet evidence: the tour's QEMU writes the same trace events while gdb stops
/// it on the chain's functions, so the timeline `make trace` would print for this very run is
/// built, and every QEMU label on it must appear, caller before callee, on one stack gdb saw.
/// A label is "a -> b / c -> d": '->' from caller to callee (helpers may sit between), '/'
/// alternatives, a trailing '*' a name prefix.
/// </summary>
public static class LabelCheck
{
    /// <summary>The labels of the timeline `make trace` builds from this tour's trace and backend log.</summary>
    public static IReadOnlyList<TimelineEntry> TraceTimeline(TourResult tour)
    {
        var backend = tour.BackendLog.Select(TimedLine.ParseStamped).OfType<TimedLine>().ToList();
        var run = new RunResult
        {
            // The tour's QEMU ran under gdb, not under the runner: only the trace and the log matter here.
            Outcome = RunOutcome.Pass, Status = null, Verdict = Verdict.Missing, Lines = [], QemuStderr = [],
            FirstByteAt = null, Duration = tour.Duration, Timeout = null, CommandLine = [],
        };
        double started = tour.Trace.Count > 0 ? tour.Trace[0].At : 0;
        return Timeline.Build(new GuestTrace("GuestOS", started, tour.Trace, [], backend, run));
    }

    public static IReadOnlyList<LabelVerdict> Check(IEnumerable<TimelineEntry> timeline, IReadOnlyList<TourStop> stops)
    {
        var qemu = stops.Where(s => s.Side == Side.Qemu).ToList();
        return timeline.Where(e => e.Layer == Layer.Qemu && e.Function.Length > 0)
            .DistinctBy(e => (e.Kind, e.Function))
            .Select(e => new LabelVerdict(e.Kind, e.Function, qemu.FirstOrDefault(s => OnStack(e.Function, s))))
            .ToList();
    }

    /// <summary>True when the label's functions appear on the stop's stack, outermost first, in order.</summary>
    public static bool OnStack(string label, TourStop stop)
    {
        var outerFirst = stop.Functions.Reverse().ToList();
        int at = 0;
        foreach (var position in label.Split("->", StringSplitOptions.TrimEntries))
        {
            var names = position.Split('/', StringSplitOptions.TrimEntries);
            int found = outerFirst.FindIndex(at, f => names.Any(n => n.EndsWith('*') ? f.StartsWith(n[..^1], StringComparison.Ordinal) : f == n));
            if (found < 0) return false;
            at = found + 1;
        }
        return true;
    }
}
