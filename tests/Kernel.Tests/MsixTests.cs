using System.Text.RegularExpressions;
using GuestOS.Drivers.Narration;
using GuestOS.Runner;
using static GuestOS.Kernel.Tests.VirtioRngTests;

namespace GuestOS.Kernel.Tests;

// MSI-X on real QEMU: the driver programs the table, the device interrupts through it, and the
// interrupt controller of each machine (x86 local APIC; GICv2m SPIs; GICv3 ITS LPIs) delivers
// it. Linux's shape (one 64-byte buffer) makes the reader sleep for nearly every completion,
// so interrupt counts can be checked against completions.
public class MsixTests
{
    // Linux's shape: one 64-byte buffer, and like Linux's virtio_read the reader sleeps on the
    // interrupt at once (rng.nospin), so every completion is waited for by interrupt.
    private const string LinuxShape = "rng.buffers=1 rng.bufsize=64 rng.nospin";

    public static TheoryData<string, string, int> Machines => new()
    {
        { "x86_64", "q35", 2 },
        { "x86_64", "pc", 2 },
        { "aarch64", "virt", 2 },
        { "aarch64", "virt", 3 },
    };

    [Theory]
    [MemberData(nameof(Machines))]
    public void Completions_arrive_by_MSI_X(string arch, string machine, int gic)
    {
        var run = Boot(arch, machine, gic, $"rng.bytes=64K {LinuxShape}", Rng(0, ",disable-legacy=on"));
        Assert.True(run.Passed, run.Report());
        Assert.Equal("MSI-X, a vector per queue plus one for configuration changes, 2 in the table; configuration vector read back", StepLine(run, Step.Interrupts).Text);
        Assert.Contains("MSI-X vector 1", StepLine(run, Step.Queue).Text);
        var s = Statistics(run);
        Assert.Equal(1024, s.Completions);                          // 64 KiB in 64-byte buffers
        Assert.InRange(s.Interrupts, s.Completions / 2, s.Completions);   // about one per completion, never more
        Assert.Equal(s.Interrupts, s.TakenByCpu);                   // every interrupt the CPU took was the device's
    }

    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void One_vector_is_shared_by_queue_and_configuration(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, $"rng.bytes=64K {LinuxShape}", Rng(0, ",vectors=1"));
        Assert.True(run.Passed, run.Report());
        Assert.Equal("MSI-X, a vector per queue plus one for configuration changes not possible: too few MSI-X vectors (1 in the table); falling back", StepLine(run, Step.Fallback).Text);
        Assert.StartsWith("MSI-X, one vector shared by the queues and configuration changes", StepLine(run, Step.Interrupts).Text);
        var s = Statistics(run);
        Assert.InRange(s.Interrupts, s.Completions / 2, s.Completions);
    }

    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void Without_MSI_X_the_driver_takes_INTx_as_Linux_does(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, $"rng.bytes=64K {LinuxShape}", Rng(0, ",vectors=0"));
        Assert.True(run.Passed, run.Report());
        Assert.Contains(NarrationLine.In(run), l => l.Step == Step.Fallback && l.Text == "MSI-X, one vector shared by the queues and configuration changes not possible: no MSI-X capability; falling back");
        Assert.StartsWith("INTx, acknowledged by reading ISR status, INTA#", StepLine(run, Step.InterruptLine).Text);
        Assert.DoesNotContain(NarrationLine.In(run), l => l.Step == Step.Polling);
        var s = Statistics(run);
        Assert.Equal(1024, s.Completions);
        Assert.InRange(s.Interrupts, s.Completions / 2, s.Completions);   // the level line is acknowledged each time
    }

    // Behind a PCIe root port at 00:05.0 the function's INTA reaches the host bridge as the
    // port's INTA turned by device 0 (pci_common_swizzle), which virt's interrupt-map sends to
    // SPI 3 + (5 + 0) % 4 = 4. Without the swizzle there is no route and the driver polls.
    [Fact]
    public void Behind_a_bridge_INTx_is_routed_through_the_bridges_pin_as_Linux_does()
    {
        var run = QemuRunner.Run(new RunOptions
        {
            KernelPath = Kernels.Path(TargetArch.Aarch64),
            Arch = TargetArch.Aarch64,
            Machine = "virt",
            Append = $"rng.bytes=64K {LinuxShape}",
            Timeout = TimeSpan.FromSeconds(120),
            QemuExtra = ["-object", "rng-random,id=rng0,filename=/dev/urandom",
                         "-device", "pcie-root-port,id=rp0,bus=pcie.0,chassis=1,addr=0x5",
                         "-device", "virtio-rng-pci,rng=rng0,vectors=0,bus=rp0"],
        });
        Assert.True(run.Passed, run.Report());
        Assert.Contains(run.Lines, l => l.Text == "devicetree: PCI 0x0028 INTA -> SPI 4 (INTID 36) level (interrupt-map)");
        Assert.StartsWith("INTx, acknowledged by reading ISR status, INTA# (interrupt line register 0), line 36 (level)", StepLine(run, Step.InterruptLine).Text);
        Assert.DoesNotContain(NarrationLine.In(run), l => l.Step == Step.Polling);
        var s = Statistics(run);
        Assert.Equal(1024, s.Completions);
        Assert.InRange(s.Interrupts, s.Completions / 2, s.Completions);
    }

    // virt routes INTA of slots 1 and 5 to the same SPI (3 + (slot + pin - 1) % 4 = 4): the
    // second driver shares the level line (SharedLine, Linux's IRQF_SHARED) instead of polling,
    // and each interrupt runs both handlers, each reading its own ISR.
    [Fact]
    public void Two_functions_share_an_INTx_line_as_Linux_does()
    {
        var run = Boot("aarch64", "virt", 2, $"rng.bytes=64K {LinuxShape}",
                       ["rng-random,id=rng0,filename=/dev/urandom", "virtio-rng-pci,rng=rng0,vectors=0,addr=0x1"],
                       ["rng-random,id=rng1,filename=/dev/urandom", "virtio-rng-pci,rng=rng1,vectors=0,addr=0x5"]);
        Assert.True(run.Passed, run.Report());
        Assert.Equal(2, NarrationLine.In(run).Count(l => l.Step == Step.InterruptLine && l.Text.EndsWith("line 36 (level)")));
        Assert.DoesNotContain(NarrationLine.In(run), l => l.Step == Step.Polling);
        foreach (var device in new[] { "virtio_rng.0: ", "virtio_rng.1: " })
        {
            var m = Regex.Match(run.Lines.Single(l => l.Text.StartsWith(device)).Text, @"bytes in (\d+) completions, (\d+) interrupts");
            Assert.True(m.Success && long.Parse(m.Groups[2].Value) > 0, run.Report());
        }
    }

    private record Stats(long Completions, long Interrupts, long TakenByCpu);

    private static Stats Statistics(RunResult run)
    {
        var line = run.Lines.Single(l => l.Text.StartsWith("virtio_rng.0: ") && l.Text.Contains("completions")).Text;
        var m = Regex.Match(line, @"bytes in (\d+) completions, (\d+) interrupts");
        Assert.True(m.Success, line);
        var cpu = Regex.Match(run.Lines.Single(l => l.Text.StartsWith("interrupts: ") && l.Text.Contains("taken by the CPU")).Text, @"(\d+) taken");
        return new Stats(long.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), long.Parse(cpu.Groups[1].Value));
    }
}
