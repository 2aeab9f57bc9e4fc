using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// Deliberate faults are reported with the right vector or exception class and fail the run.
public class FaultTests
{
    [Theory]
    [InlineData("fault-null", "FAULT: vector 14 (#PF page fault)", "CR2=0x0000000000000000")]
    [InlineData("fault-divide", "FAULT: vector 0 (#DE divide error)", "RIP=")]
    [InlineData("fault-undefined", "FAULT: vector 6 (#UD invalid opcode)", "RIP=")]
    public void X86_64_faults_are_reported(string test, string header, string detail)
    {
        var run = Kernels.Boot(TargetArch.X86_64, "test=" + test);
        Assert.Equal(RunOutcome.Fault, run.Outcome);
        Assert.True(run.Printed(header), run.Report());
        Assert.True(run.Printed(detail), run.Report());
        Assert.True(run.Printed("GUESTOS-VERDICT: FAIL fault"), run.Report());
    }

    [Theory]
    [InlineData("fault-null", "exception class 0x25 (data abort)", "FAR=0x0000000000000000 DFSC=0x06 (translation fault) write")]
    [InlineData("fault-undefined", "exception class 0x00 (unknown reason (undefined instruction))", "ESR=0x02000000")]
    [InlineData("fault-unaligned", "exception class 0x25 (data abort)", "DFSC=0x21 (alignment fault) read")]
    public void Aarch64_faults_are_reported(string test, string header, string detail)
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=" + test);
        Assert.Equal(RunOutcome.Fault, run.Outcome);
        Assert.True(run.Printed(header), run.Report());
        Assert.True(run.Printed(detail), run.Report());
    }

    // arm64's sdiv returns 0 instead of trapping, so ilc emits a check that calls the corelib's
    // ThrowHelpers, which panic.
    [Fact]
    public void Aarch64_divide_by_zero_is_a_panic()
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=fault-divide");
        Assert.Equal(RunOutcome.Panic, run.Outcome);
        Assert.True(run.Printed("PANIC: divide by zero"), run.Report());
    }

    [Theory]
    [InlineData(TargetArch.X86_64)]
    [InlineData(TargetArch.Aarch64)]
    public void A_panic_names_its_reason(TargetArch arch)
    {
        var run = Kernels.Boot(arch, "test=panic");
        Assert.Equal(RunOutcome.Panic, run.Outcome);
        Assert.True(run.Printed("PANIC: requested by test=panic"), run.Report());
    }
}
