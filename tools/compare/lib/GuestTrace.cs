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

    public BringUpNormalizer Analysis => analysis ??= BringUpNormalizer.Analyze(Events, Backend);

    public IReadOnlyList<BringUpStep> Steps => Analysis.Steps;
}
