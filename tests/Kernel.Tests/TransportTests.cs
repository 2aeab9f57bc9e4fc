using System.Text.RegularExpressions;
using GuestOS.Drivers.Narration;
using GuestOS.Runner;
using static GuestOS.Kernel.Tests.VirtioRngTests;

namespace GuestOS.Kernel.Tests;

// Every transport and wired interrupt on real QEMU: virtio-mmio in both register layouts
// (microvm behind its IOAPIC, virt behind GICv2 and GICv3 SPIs), legacy virtio-pci (the I/O BAR
// of disable-modern=on), and virtio-pci without MSI-X (vectors=0: INTx, through the firmware's
// interrupt line on pc and q35, through the device tree's interrupt-map on virt). Each reads
// 1 MiB with interrupts and passes the kernel's entropy checks (its verdict).
public partial class TransportTests
{
    private static readonly string[] Source = ["-object", "rng-random,id=rng0,filename=/dev/urandom"];

    public static TheoryData<string, string, int, string, string, string> Rows => new()
    {
        // arch, machine, gic, device, extra QEMU arguments, the interrupt step's narrated mode
        { "x86_64", "microvm", 2, "virtio-rng-device,rng=rng0", "", "interrupt_line" },
        { "x86_64", "microvm", 2, "virtio-rng-device,rng=rng0", "-global virtio-mmio.force-legacy=false", "interrupt_line" },
        { "aarch64", "virt", 2, "virtio-rng-device,rng=rng0", "", "interrupt_line" },
        { "aarch64", "virt", 2, "virtio-rng-device,rng=rng0", "-global virtio-mmio.force-legacy=false", "interrupt_line" },
        { "aarch64", "virt", 3, "virtio-rng-device,rng=rng0", "", "interrupt_line" },
        { "aarch64", "virt", 3, "virtio-rng-device,rng=rng0", "-global virtio-mmio.force-legacy=false", "interrupt_line" },
        { "x86_64", "q35", 2, "virtio-rng-pci,rng=rng0,vectors=0", "", "interrupt_line" },
        { "x86_64", "pc", 2, "virtio-rng-pci,rng=rng0,vectors=0", "", "interrupt_line" },
        { "aarch64", "virt", 2, "virtio-rng-pci,rng=rng0,vectors=0", "", "interrupt_line" },
        { "aarch64", "virt", 3, "virtio-rng-pci,rng=rng0,vectors=0", "", "interrupt_line" },
        { "x86_64", "q35", 2, "virtio-rng-pci,rng=rng0,disable-modern=on", "", "interrupts" },
        { "x86_64", "pc", 2, "virtio-rng-pci,rng=rng0,disable-modern=on,vectors=0", "", "interrupt_line" },
        { "aarch64", "virt", 2, "virtio-rng-pci,rng=rng0,disable-modern=on", "", "interrupts" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Reads_a_MiB_with_interrupts(string arch, string machine, int gic, string device, string extra, string irqStep)
    {
        var target = TargetArchNames.Parse(arch);
        var run = QemuRunner.Run(new RunOptions
        {
            KernelPath = Kernels.Path(target),
            Arch = target,
            Machine = machine,
            GicVersion = gic,
            Append = "rng.bytes=1M",
            Timeout = TimeSpan.FromSeconds(120),
            QemuExtra = [.. Source, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            Devices = [device],
        });
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("entropy: read 1048576 bytes from 1 device(s)"), run.Report());

        var steps = NarrationLine.In(run);
        Assert.Single(steps, s => Encoding(s.Step) == irqStep);
        var probe = steps.Single(s => s.Step == Step.Probe);
        if (device.StartsWith("virtio-rng-device"))
            Assert.StartsWith(extra.Length == 0 ? "virtio-mmio version 1 (legacy)" : "virtio-mmio version 2 (virtio 1.x)", probe.Text);
        else if (device.Contains("disable-modern=on"))
            Assert.StartsWith("legacy virtio-pci rng", probe.Text);
        else
            Assert.StartsWith("modern virtio-pci rng", probe.Text);
        Assert.DoesNotContain(steps, s => s.Step == Step.Polling);

        var m = Regex.Match(run.Lines.Single(l => l.Text.StartsWith("virtio_rng.0: ")).Text, @"bytes in (\d+) completions, (\d+) interrupts");
        Assert.True(m.Success, run.Report());
        Assert.True(long.Parse(m.Groups[2].Value) > 0, "no interrupt arrived\n" + run.Report());
        // Every step's accesses are named (an unnamed register would show as a bare address).
        foreach (var s in steps) Assert.DoesNotContain(s.Accesses, a => a.Register.StartsWith("0x"));
    }

    private static string Encoding(Step s) => System.Text.Encoding.ASCII.GetString(Steps.Name(s));
}
