using System.Diagnostics;
using Xunit;

namespace GuestOS.Bench.Tests;

public class ProcCpuTests
{
    [Theory]
    [InlineData("123456789 1000 42\n", 123456789L)]
    [InlineData("0 0 0", 0L)]
    public void Schedstat_first_field_is_nanoseconds_on_a_cpu(string line, long ns) =>
        Assert.Equal(ns, ProcCpu.ParseSchedstatNs(line));

    [Theory]
    [InlineData("")]
    [InlineData("abc 1 2")]
    [InlineData("-5 1 2")]
    public void A_malformed_schedstat_line_is_refused(string line) =>
        Assert.Throws<FormatException>(() => ProcCpu.ParseSchedstatNs(line));

    [Theory]
    [InlineData("4242 (qemu-system-x86) S 17 4242 4242 0 -1", "qemu-system-x86", 17)]
    [InlineData("7 (a) b (c) R 3 7 7", "a) b (c", 3)]          // the name ends at the last ')'
    [InlineData("9 (vhost user rng) S 1 9", "vhost user rng", 1)]
    public void Stat_gives_the_command_name_and_parent(string line, string comm, int ppid) =>
        Assert.Equal((comm, ppid), ProcCpu.ParseStat(line));

    [Theory]
    [InlineData("4242 qemu S 17")]
    [InlineData("4242 (qemu) S")]
    [InlineData("4242 (qemu) S x")]
    public void A_malformed_stat_line_is_refused(string line) =>
        Assert.Throws<FormatException>(() => ProcCpu.ParseStat(line));

    [Fact]
    public void A_child_is_found_by_name_and_a_missing_process_has_no_cpu_time()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        try
        {
            Assert.Equal(child.Id, ProcCpu.FindChild(Environment.ProcessId, "sleep"));
            Assert.Null(ProcCpu.FindChild(Environment.ProcessId, "no-such-child"));
            Assert.NotNull(ProcCpu.CpuNs(child.Id));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
        Assert.Null(ProcCpu.CpuNs(child.Id));
    }
}
