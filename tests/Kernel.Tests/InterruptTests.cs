using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The interrupt path: interrupt controller (local APIC; GICv2 and its v2m frame; GICv3, its
// ITS and LPIs), vector stub, C# dispatch, handler, end of interrupt, and the race-free wait,
// which the wake-up timer (local APIC timer; arm64 virtual timer) ends at its deadline when no
// interrupt comes (the kernel fails the test itself if the timer never fires or fires early).
public class InterruptTests
{
    private const string TimerWake = "test irq: a wait with nothing pending ended ";

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
        Assert.True(run.Printed(TimerWake), run.Report());
    }

    [Fact]
    public void Aarch64_gicv2_self_interrupts_wake_the_race_free_wait()
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=irq", gic: 2);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("v2m MSI frame 0x8020000 SPIs 80-143"), run.Report());
        Assert.True(run.Printed("test irq: self interrupt 3 on vector 1"), run.Report());
        // Two MSIs allocated as a driver allocates them, raised by writing SETSPI_NS.
        Assert.True(run.Printed("test irq: MSI address 0x8020040 data 80 handled"), run.Report());
        Assert.True(run.Printed("test irq: MSI address 0x8020040 data 81 handled"), run.Report());
        Assert.True(run.Printed(TimerWake), run.Report());
    }

    // GICv3: an SGI through ICC_SGI1R_EL1, then two MSIs allocated through Irq.AllocateMsi (MAPD
    // for the DeviceID, MAPTI to fresh LPIs, INV, SYNC) and raised with the ITS INT command:
    // each LPI must reach its own handler. The doorbell is GITS_TRANSLATER (ITS + 0x10040).
    [Theory]
    [InlineData("cortex-a57")]
    [InlineData("cortex-a72")]
    [InlineData("max")]
    public void Aarch64_gicv3_self_interrupts_and_its_lpis_wake_the_race_free_wait(string cpu)
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=irq", cpu: cpu, gic: 3);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("gic: GICv3 distributor 0x8000000, redistributor 0x80a0000, ITS 0x8080000 (DeviceID bits 16"), run.Report());
        Assert.True(run.Printed("gic: LPIs 8192-16383"), run.Report());
        Assert.True(run.Printed("test irq: self interrupt 3 on vector 1"), run.Report());
        Assert.True(run.Printed("its: requester 0x00f8 -> DeviceID 0xf8, EventID 0 -> LPI 8192"), run.Report());
        Assert.True(run.Printed("its: requester 0x00f8 -> DeviceID 0xf8, EventID 1 -> LPI 8193"), run.Report());
        Assert.True(run.Printed("test irq: MSI address 0x8090040 data 0 handled"), run.Report());
        Assert.True(run.Printed("test irq: MSI address 0x8090040 data 1 handled"), run.Report());
        Assert.True(run.Printed(TimerWake), run.Report());
    }

    // Entered at EL2 (virtualization=on), the kernel drops to EL1 and must still reach the GICv3
    // CPU interface through system registers (entry.S sets ICC_SRE_EL2.SRE and .Enable).
    // QEMU 7.2 implements those bits as RAO, so this proves the EL2 path works, not that the
    // write is needed.
    [Fact]
    public void Aarch64_gicv3_interrupts_work_after_the_drop_from_el2()
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=irq", machine: "virt,virtualization=on", gic: 3);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("test irq: MSI address 0x8090040 data 1 handled"), run.Report());
    }
}
