using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Runner;

public sealed class VerdictTests
{
    [Theory]
    [InlineData("GUESTOS-VERDICT: PASS", VerdictKind.Pass, null)]
    [InlineData("  GUESTOS-VERDICT: PASS  ", VerdictKind.Pass, null)]
    [InlineData("GUESTOS-VERDICT: FAIL", VerdictKind.Fail, null)]
    [InlineData("GUESTOS-VERDICT: FAIL virtio-rng: queue 0 not ready", VerdictKind.Fail, "virtio-rng: queue 0 not ready")]
    [InlineData("GUESTOS-VERDICT: PASSED", VerdictKind.Malformed, "PASSED")]
    [InlineData("GUESTOS-VERDICT: pass", VerdictKind.Malformed, "pass")]
    public void Verdict_lines_are_recognised_strictly(string line, VerdictKind kind, string? reason)
    {
        Assert.Equal(new Verdict(kind, reason), Verdict.Parse(line));
    }

    [Theory]
    [InlineData("GUESTOS-VERDICT PASS")]
    [InlineData("test says GUESTOS-VERDICT: PASS")]
    [InlineData("")]
    public void Other_lines_are_not_verdicts(string line)
    {
        Assert.Null(Verdict.Parse(line));
    }

    [Fact]
    public void The_last_verdict_line_is_the_one_that_counts()
    {
        var lines = new[] { "GUESTOS-VERDICT: PASS", "late failure", "GUESTOS-VERDICT: FAIL late" }
            .Select(t => new ConsoleLine(TimeSpan.Zero, t));

        Assert.Equal(new Verdict(VerdictKind.Fail, "late"), Verdict.FromLines(lines));
        Assert.Equal(Verdict.Missing, Verdict.FromLines([]));
    }
}
