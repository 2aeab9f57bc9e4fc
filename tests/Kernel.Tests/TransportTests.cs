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
        // The reset step lists its status write by the transport's register name (on virt the
        // device sits in the 32nd virtio-mmio slot: the narration must still have room for it).
        string statusWrite = device.StartsWith("virtio-rng-device") ? "iowrite32 mmio+0x070 Status = 0x0"
                           : device.Contains("disable-modern=on") ? (arch == "x86_64" ? "outb legacy+0x12 device_status = 0x0" : "iowrite8 legacy+0x12 device_status = 0x0")
                           : "iowrite8 common+0x14 device_status = 0x0";
        Assert.Contains(statusWrite, steps.First(s => s.Step == Step.Reset).Accesses.Select(a => a.ToString()));
    }

    // Our vhost-user backend behind a virtio-mmio transport (vhost-user-rng): microvm, and virt
    // with the version 2 layout.
    [Theory]
    [InlineData("x86_64", "microvm", "")]
    [InlineData("aarch64", "virt", "-global virtio-mmio.force-legacy=false")]
    public async Task Our_backend_serves_a_virtio_mmio_device(string arch, string machine, string extra)
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath);
        var options = Kernels.WithBackend(TargetArchNames.Parse(arch), machine, backend, "rng.bytes=1M", mmio: true);
        options = options with { QemuExtra = [.. options.QemuExtra, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)] };
        var run = await QemuRunner.RunAsync(options);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("entropy: read 1048576 bytes from 1 device(s)"), run.Report());
        Assert.StartsWith(extra.Length == 0 ? "virtio-mmio version 1 (legacy)" : "virtio-mmio version 2 (virtio 1.x)",
                          NarrationLine.In(run).Single(s => s.Step == Step.Probe).Text);
        Assert.Single(NarrationLine.In(run), s => s.Step == Step.InterruptLine);
    }

    // The benchmark line names the transport and the wired line, so make bench can put
    // virtio-mmio beside virtio-pci.
    [Theory]
    [InlineData("x86_64", "microvm", "", "mmio-legacy")]
    [InlineData("aarch64", "virt", "-global virtio-mmio.force-legacy=false", "mmio")]
    public void Rng_bench_names_the_transport(string arch, string machine, string extra, string transport)
    {
        var target = TargetArchNames.Parse(arch);
        var run = QemuRunner.Run(new RunOptions
        {
            KernelPath = Kernels.Path(target), Arch = target, Machine = machine,
            Append = "rng.bench=4M quiet", Timeout = TimeSpan.FromSeconds(120),
            QemuExtra = [.. Source, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            Devices = ["virtio-rng-device,rng=rng0"],
        });
        Assert.True(run.Passed, run.Report());
        var b = GuestBenchLines.Parse(run);
        Assert.Equal((transport, "wired"), (b.Transport, b.Irq));
        Assert.Equal(4L << 20, b.Bytes);
        Assert.InRange(b.Interrupts, 1, b.Completions);
    }

    private static string Encoding(Step s) => System.Text.Encoding.ASCII.GetString(Steps.Name(s));
}
