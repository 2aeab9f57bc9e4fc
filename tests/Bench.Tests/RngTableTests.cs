using GuestOS.Runner;
using Xunit;

namespace GuestOS.Bench.Tests;

public class RngTableTests
{
    private static RngRow R(string arch, RowKind kind, EntropyDevice device, double mbps, string name = "r") =>
        new(arch, kind, device, name, "-", 3, mbps, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    [Fact]
    public void A_sample_is_per_MiB_per_GiB_and_in_decimal_megabytes()
    {
        var s = RngSample.From(bytes: 256 << 20, seconds: 0.25, kicks: 256, interrupts: 64,
                               qemuCpuSeconds: 0.5, backendCpuSeconds: 0.125, driverOkMs: 4.5);
        Assert.Equal(268435456 / 0.25 / 1e6, s.MBps, 9);
        Assert.Equal((1.0, 0.25, 2.0, 0.5, 4.5), (s.KicksPerMiB, s.InterruptsPerMiB, s.QemuCpuSecondsPerGiB, s.BackendCpuSecondsPerGiB, s.DriverOkMs));
    }

    [Theory]
    [InlineData(new[] { 3.0, 1.0, 2.0 }, 2.0)]
    [InlineData(new[] { 4.0, 1.0, 2.0, 3.0 }, 2.5)]
    [InlineData(new[] { double.NaN, 5.0, 1.0 }, 3.0)]            // a figure a run could not give is left out
    [InlineData(new[] { double.NaN }, double.NaN)]
    public void Median_of_the_runs(double[] values, double median) =>
        Assert.Equal(median, RngTable.Median(values));

    [Fact]
    public void Ratios_are_against_Linux_and_the_ceiling_of_the_same_arch_and_device()
    {
        var rows = RngTable.WithRatios(new[]
        {
            R("x86_64", RowKind.Ceiling, EntropyDevice.BuiltIn, 400),
            R("x86_64", RowKind.Ceiling, EntropyDevice.Backend, 4000),
            R("x86_64", RowKind.Linux, EntropyDevice.BuiltIn, 0.5),
            R("x86_64", RowKind.Linux, EntropyDevice.Backend, 0.25),
            R("x86_64", RowKind.GuestOS, EntropyDevice.BuiltIn, 380),
            R("x86_64", RowKind.GuestOS, EntropyDevice.Backend, 1200),
            R("aarch64", RowKind.Ceiling, EntropyDevice.Backend, 3000),
            R("aarch64", RowKind.Linux, EntropyDevice.Backend, 0.5),
            R("aarch64", RowKind.GuestOS, EntropyDevice.Backend, 1500),
            R("aarch64", RowKind.GuestOS, EntropyDevice.BuiltIn, 300),   // no Linux nor ceiling row for it
        });
        (double, double) Ratios(int i) => (Math.Round(rows[i].XLinux, 9), Math.Round(rows[i].XCeiling, 9));
        Assert.True(double.IsNaN(rows[0].XLinux) && double.IsNaN(rows[0].XCeiling));
        Assert.Equal((1.0, 0.5 / 400), Ratios(2));
        Assert.Equal((1.0, 0.25 / 4000), Ratios(3));
        Assert.Equal((760.0, 0.95), Ratios(4));
        Assert.Equal((4800.0, 0.3), Ratios(5));
        Assert.Equal((3000.0, 0.5), Ratios(8));
        Assert.True(double.IsNaN(rows[9].XLinux) && double.IsNaN(rows[9].XCeiling));
    }

    [Fact]
    public void Best_is_the_fastest_and_a_row_is_the_medians_of_its_runs()
    {
        Assert.Equal("b", RngTable.Best(new[] { R("x", RowKind.GuestOS, EntropyDevice.Backend, 900, "a"),
                                                R("x", RowKind.GuestOS, EntropyDevice.Backend, 1100, "b"),
                                                R("x", RowKind.GuestOS, EntropyDevice.Backend, double.NaN, "c") }).Name);
        var row = RngTable.Row("x86_64", RowKind.GuestOS, EntropyDevice.Backend, "n", "4 x 1048576", new[]
        {
            new RngSample(1000, 1, 0.1, 1, 0.2, 5), new RngSample(1200, 3, 0.3, 2, 0.4, 4), new RngSample(800, 2, 0.2, 3, 0.3, 6),
        });
        Assert.Equal((1000.0, 2.0, 0.2, 2.0, 0.3, 5.0, 3), (row.MBps, row.KicksPerMiB, row.InterruptsPerMiB, row.QemuCpuSecondsPerGiB,
                                                           row.BackendCpuSecondsPerGiB, row.DriverOkMs, row.Runs));
    }

    [Fact]
    public void The_table_has_one_line_per_row_of_its_arch_and_dashes_for_what_does_not_apply()
    {
        var rows = RngTable.WithRatios(new[]
        {
            R("x86_64", RowKind.Ceiling, EntropyDevice.BuiltIn, 400.04, "urandom"),
            R("aarch64", RowKind.Ceiling, EntropyDevice.BuiltIn, 300, "other arch"),
        });
        var lines = RngTable.Format("x86_64", rows).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal("| urandom | built-in | - | 400.0 | - | - | - | - | - | - | - | - | - |", lines[3]);
    }

    // BENCH-COPY: each GuestOS boot's copy alone, its median over the runs, and the row's MB/s
    // against it.
    [Fact]
    public void A_GuestOS_row_holds_its_MBps_against_the_guest_copy_alone_of_the_same_boots()
    {
        var s = RngSample.From(bytes: 256 << 20, seconds: 0.25, kicks: 1, interrupts: 1, qemuCpuSeconds: 1, backendCpuSeconds: 1,
                               driverOkMs: 1, guestCopyMBps: 2000);
        Assert.Equal(2000, s.GuestCopyMBps);
        var row = RngTable.Row("x86_64", RowKind.GuestOS, EntropyDevice.Backend, "GuestOS, defaults", "4 x 1048576", new[]
        {
            s with { MBps = 1500, GuestCopyMBps = 4000 }, s with { MBps = 1000, GuestCopyMBps = 2000 }, s with { MBps = 1200, GuestCopyMBps = 3000 },
        });
        Assert.Equal((1200.0, 3000.0, 0.4), (row.MBps, row.GuestCopyMBps, row.XGuestCopy));
        Assert.Equal("| GuestOS, defaults | backend | 4 x 1048576 | 1200.0 | - | - | 3000.0 | 0.40 | 0.0 | 0.0 | 4.00 | 4.00 | 1.00 |",
                     RngTable.Format("x86_64", new[] { row }).Last());
        Assert.True(double.IsNaN(R("x86_64", RowKind.Linux, EntropyDevice.Backend, 1).XGuestCopy));
    }

    [Fact]
    public void Linux_window_runs_from_the_dd_announcement_to_records_out()
    {
        var lines = new List<ConsoleLine>
        {
            new(TimeSpan.FromSeconds(3.0), "LINUX-COMPARE: hwrng virtio_rng.0, reading 1048576 bytes"),
            new(TimeSpan.FromSeconds(4.5), "16384+0 records in"),
            new(TimeSpan.FromSeconds(5.0), "16384+0 records out"),
        };
        Assert.Equal(TimeSpan.FromSeconds(2), GuestRngBench.LinuxDdWindow(lines));
        Assert.Null(GuestRngBench.LinuxDdWindow(lines.Take(2).ToList()));
        Assert.Null(GuestRngBench.LinuxDdWindow(lines.Skip(1).ToList()));
    }
}
