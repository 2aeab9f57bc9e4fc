using Xunit;

namespace GuestOS.Bench.Tests;

// guest-rng's arguments and the rows they select: --backend-only keeps our backend's own path
// (its ceiling and the GuestOS default rows with and without polling on either side) on both
// architectures, for short A/B runs.
public class GuestRngConfigTests
{
    [Theory]
    [InlineData(new string[0], 3, false)]
    [InlineData(new[] { "5" }, 5, false)]
    [InlineData(new[] { "--backend-only" }, 3, true)]
    [InlineData(new[] { "--backend-only", "4" }, 4, true)]
    public void Runs_and_backend_only_are_read_in_any_order(string[] args, int runs, bool backendOnly) =>
        Assert.Equal((runs, backendOnly), GuestRngBench.ParseArgs(args));

    [Theory]
    [InlineData("0")]
    [InlineData("--backend")]
    public void A_bad_argument_is_refused_by_name(string bad) =>
        Assert.Equal($"guest-rng: '{bad}' is neither a number of runs (1 or more) nor --backend-only",
                     Assert.Throws<FormatException>(() => GuestRngBench.ParseArgs([bad])).Message);

    [Fact]
    public void Backend_only_is_the_backend_ceiling_and_its_two_default_rows_per_arch()
    {
        var rows = GuestRngBench.Configs(backendOnly: true).Select(c => $"{c.Arch} {c.Kind} {c.Device} {c.Name}");
        string[] expected = [.. new[] { "x86_64", "aarch64" }.SelectMany(a => new[]
        {
            $"{a} Ceiling Backend backend serving alone, 4 x 256 KiB chains",
            $"{a} GuestOS Backend GuestOS, defaults",
            $"{a} GuestOS Backend {GuestRngBench.NoPollingName}",
        })];
        Assert.Equal(expected, rows);
    }

    [Fact]
    public void The_full_table_has_every_backend_only_row_and_no_polling_is_passed_to_both_sides()
    {
        var all = GuestRngBench.Configs(backendOnly: false);
        Assert.True(all.Count > 6 * 2);
        Assert.All(GuestRngBench.Configs(backendOnly: true), c => Assert.Contains(all, a => a with { BackendArgs = null } == c with { BackendArgs = null }));
        var noPolling = all.Single(c => c.Arch == "x86_64" && c.Name == GuestRngBench.NoPollingName);
        Assert.Equal(["--busy-poll-us", "0"], noPolling.BackendArgs!);
        Assert.Equal("rng.nospin", noPolling.Append);
    }
}
