using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>Everything one traced boot produced, on the host's wall clock.</summary>
public sealed record GuestTrace(
    string Name,
    double QemuStartedAt,
    IReadOnlyList<QemuTraceEvent> Events,
    IReadOnlyList<TimedLine> Console,
    IReadOnlyList<TimedLine> Backend,
    RunResult Run)
{
    private BringUpNormalizer? analysis;

    /// <summary>Why the run ended: "the guest exited (QEMU status 33)", "time limit (60 s)", "idle for 5 s after DRIVER_OK".</summary>
    public string StoppedBecause { get; init; } = "";

    public BringUpNormalizer Analysis => analysis ??= BringUpNormalizer.Analyze(Events, Backend);

    public IReadOnlyList<BringUpStep> Steps => Analysis.Steps;
}
