using System.Globalization;
using System.Text;

namespace GuestOS.Runner;

/// <summary>
/// Everything one boot produced: the outcome, the decoded status, the verdict line, and the
/// whole console with host timestamps, so that a test can assert on any of them, e.g.
/// <c>Assert.Equal(KernelExitCode.Fault, r.ExitCode); Assert.True(r.Printed("vector 14"));</c>
/// </summary>
public sealed record RunResult
{
    public required RunOutcome Outcome { get; init; }

    /// <summary>QEMU's exit status, decoded; null when the run timed out and QEMU was killed.</summary>
    public required ExitStatus? Status { get; init; }

    public required Verdict Verdict { get; init; }

    /// <summary>Every console line, in order, each stamped relative to QEMU's start.</summary>
    public required IReadOnlyList<ConsoleLine> Lines { get; init; }

    /// <summary>QEMU's own stderr (errors, warnings, -trace output); the last few thousand lines.</summary>
    public required IReadOnlyList<ConsoleLine> QemuStderr { get; init; }

    /// <summary>When the first console byte arrived, from QEMU's start; null if none did.</summary>
    public required TimeSpan? FirstByteAt { get; init; }

    /// <summary>From QEMU's start to its exit (or to the kill, on timeout).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>The timeout that was in force; null when there was none.</summary>
    public required TimeSpan? Timeout { get; init; }

    /// <summary>The argv QEMU was started with.</summary>
    public required IReadOnlyList<string> CommandLine { get; init; }

    /// <summary>How many lines <see cref="Tail"/> gives by default.</summary>
    public int TailLines { get; init; } = 20;

    public bool Passed => Outcome == RunOutcome.Pass;

    /// <summary>The kernel's exit code, when QEMU's status carried one of the known codes.</summary>
    public KernelExitCode? ExitCode => Status?.Code;

    /// <summary>True when some console line contains <paramref name="fragment"/> (ordinal).</summary>
    public bool Printed(string fragment) => Lines.Any(l => l.Text.Contains(fragment, StringComparison.Ordinal));

    /// <summary>The last <paramref name="count"/> console lines (default: <see cref="TailLines"/>).</summary>
    public IReadOnlyList<ConsoleLine> Tail(int? count = null) => Lines.TakeLast(count ?? TailLines).ToList();

    /// <summary>Why the run failed, in one sentence; null when it passed.</summary>
    public string? FailureReason => Outcome switch
    {
        RunOutcome.Pass => null,
        RunOutcome.Timeout => $"no exit within {Seconds(Timeout ?? Duration)} s: QEMU was killed",
        RunOutcome.VerdictMismatch => $"the exit status says PASS but the console says: {Verdict}",
        _ => $"{Status!.Meaning}; verdict line: {Verdict}",
    };

    /// <summary>
    /// The one-line summary: "runner: PASS in 0.41 s",
    /// "runner: FAIL (FAULT, status 39) in 0.52 s", "runner: FAIL (TIMEOUT after 3.00 s) in 3.01 s".
    /// </summary>
    public string Summary()
    {
        var duration = $"in {Seconds(Duration)} s";
        return Outcome switch
        {
            RunOutcome.Pass => $"runner: PASS {duration}",
            RunOutcome.Timeout => $"runner: FAIL (TIMEOUT after {Seconds(Timeout ?? Duration)} s) {duration}",
            RunOutcome.VerdictMismatch => $"runner: FAIL (VERDICT_MISMATCH, status {Status!.Status} is PASS but {Verdict}) {duration}",
            _ => $"runner: FAIL ({Status!.Name}, status {Status.Status}) {duration}",
        };
    }

    /// <summary>Summary, reason, last console lines and QEMU's stderr: what a failing test should print.</summary>
    public string Report()
    {
        var sb = new StringBuilder().AppendLine(Summary());
        if (FailureReason is { } reason)
        {
            sb.AppendLine($"runner: {reason}");
            var tail = Tail();
            sb.AppendLine(tail.Count == 0
                ? "runner: the kernel printed nothing"
                : $"runner: last {tail.Count} console line(s):");
            foreach (var line in tail)
            {
                sb.AppendLine($"  {line}");
            }
            if (QemuStderr.Count > 0)
            {
                sb.AppendLine("runner: QEMU stderr:");
                foreach (var line in QemuStderr.TakeLast(TailLines))
                {
                    sb.AppendLine($"  {line}");
                }
            }
        }
        return sb.ToString().TrimEnd('\n');
    }

    public override string ToString() => Report();

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
}
