using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// QEMU exiting 0 is never success, and a hung guest is a timeout with its last words.
public class ExitTests
{
    [Fact]
    public void A_hung_guest_is_a_timeout_with_its_last_console_lines()
    {
        var run = Kernels.Boot(TargetArch.X86_64, "test=hang", timeoutSeconds: 5);
        Assert.Equal(RunOutcome.Timeout, run.Outcome);
        Assert.Contains(run.Tail(), l => l.Text.Contains("test hang: spinning forever"));
        Assert.Contains("test hang", run.Report());
    }

    // Without -semihosting the kernel powers off through PSCI, which QEMU reports as status 0:
    // the verdict line says PASS, but the run must still fail.
    [Fact]
    public async Task Aarch64_without_semihosting_exits_0_which_is_not_success()
    {
        var options = new RunOptions { KernelPath = Kernels.Path(TargetArch.Aarch64), Arch = TargetArch.Aarch64, Append = "test=boot", Timeout = TimeSpan.FromSeconds(60) };
        var argv = QemuCommandLine.Build(options).Where(a => a != "-semihosting").ToList();
        var run = await QemuRunner.RunAsync(options, argv);
        Assert.Equal(RunOutcome.NoStatus, run.Outcome);
        Assert.True(run.Printed("GUESTOS-VERDICT: PASS"), run.Report());
        Assert.True(run.Printed("PSCI SYSTEM_OFF"), run.Report());
    }
}
