using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Runner;

public sealed class ExitStatusTests
{
    [Theory]
    [InlineData(33, KernelExitCode.Pass, "PASS")]
    [InlineData(35, KernelExitCode.Fail, "FAIL")]
    [InlineData(37, KernelExitCode.Panic, "PANIC")]
    [InlineData(39, KernelExitCode.Fault, "FAULT")]
    [InlineData(41, KernelExitCode.NoDevice, "NO_DEVICE")]
    public void Odd_statuses_carry_the_kernel_code_shifted_left_by_one(int status, KernelExitCode code, string name)
    {
        var decoded = new ExitStatus(status);

        Assert.Equal(code, decoded.Code);
        Assert.Equal(name, decoded.Name);
        Assert.Equal(status, ExitStatus.StatusFor(code));
    }

    [Theory]
    [InlineData(0, "NO_STATUS", "triple fault")]
    [InlineData(1, "QEMU_ERROR", "QEMU itself failed")]
    [InlineData(11, "UNKNOWN_CODE_0x05", "code 0x05")]
    [InlineData(16, "NOT_A_KERNEL_STATUS", "signal")]
    [InlineData(32, "NOT_A_KERNEL_STATUS", "signal")] // 0x10 without the low bit: not PASS
    public void Every_other_status_is_named_and_is_not_a_pass(int status, string name, string meaning)
    {
        var decoded = new ExitStatus(status);

        Assert.Null(decoded.Code);
        Assert.False(decoded.IsPass);
        Assert.Equal(name, decoded.Name);
        Assert.Contains(meaning, decoded.Meaning);
    }

    [Theory]
    [InlineData(33, VerdictKind.Pass, RunOutcome.Pass)]
    [InlineData(33, VerdictKind.Missing, RunOutcome.VerdictMismatch)]
    [InlineData(33, VerdictKind.Fail, RunOutcome.VerdictMismatch)]
    [InlineData(35, VerdictKind.Pass, RunOutcome.Fail)]
    [InlineData(37, VerdictKind.Pass, RunOutcome.Panic)]
    [InlineData(41, VerdictKind.Fail, RunOutcome.NoDevice)]
    [InlineData(0, VerdictKind.Pass, RunOutcome.NoStatus)]
    [InlineData(1, VerdictKind.Pass, RunOutcome.QemuError)]
    [InlineData(3, VerdictKind.Pass, RunOutcome.UnknownStatus)]
    public void Only_status_PASS_with_verdict_PASS_is_a_pass(int status, VerdictKind verdict, RunOutcome expected)
    {
        Assert.Equal(expected, RunOutcomes.From(new ExitStatus(status), new Verdict(verdict, null)));
    }
}
