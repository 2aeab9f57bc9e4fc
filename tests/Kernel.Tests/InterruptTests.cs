using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The interrupt path: local APIC, IDT stub, C# dispatch, handler, EOI, and the race-free wait.
public class InterruptTests
{
    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    [InlineData("microvm")]
    public void X86_64_self_interrupts_wake_the_race_free_wait(string machine)
    {
        var run = Kernels.Boot(TargetArch.X86_64, "test=irq", machine: machine);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("test irq: self interrupt 3 on vector 48"), run.Report());
        Assert.True(run.Printed("apic: xAPIC id 0"), run.Report());
    }

    [Fact]
    public void Aarch64_gicv2_self_interrupts_wake_the_race_free_wait()
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=irq", gic: 2);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("v2m MSI frame 0x8020000 SPIs 80-143"), run.Report());
        Assert.True(run.Printed("test irq: self interrupt 3 on vector 1"), run.Report());
    }
}
