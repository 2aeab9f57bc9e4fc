using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

public class HeapTests
{
    [Theory]
    [InlineData(TargetArch.X86_64)]
    [InlineData(TargetArch.Aarch64)]
    public void Objects_arrays_strings_and_static_references_work(TargetArch arch)
    {
        var run = Kernels.Boot(arch, "test=heap");
        Assert.True(run.Passed, run.Report());
        foreach (var check in new[] { "ok   linked objects", "ok   arrays", "ok   arrays of references", "ok   static string field", "ok   ioremap refuses RAM" })
            Assert.True(run.Printed(check), run.Report());
    }

    [Theory]
    [InlineData(TargetArch.X86_64)]
    [InlineData(TargetArch.Aarch64)]
    public void Exhausting_the_heap_is_a_clear_panic(TargetArch arch)
    {
        var run = Kernels.Boot(arch, "test=oom");
        Assert.Equal(RunOutcome.Panic, run.Outcome);
        Assert.True(run.Printed("PANIC: out of memory: kernel heap exhausted"), run.Report());
        Assert.True(run.Printed("bytes in use"), run.Report());
    }
}
