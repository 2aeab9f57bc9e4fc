using System.Text.RegularExpressions;
using GuestOS.Drivers.Narration;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The whole path on real QEMU: PCI enumeration, the virtio modern transport, DRIVER_OK and
// 1 MiB of entropy through the split virtqueue (or the packed one with packed=on), with
// QEMU's built-in virtio-rng-pci backed by /dev/urandom. The guest checks what it read and
// fails its verdict if it does not look random; the bytes themselves are checked by the host
// through our backend (EntropyDeliveryTests), since QEMU's device drops entropy by design.
public class VirtioRngTests
{
    private const int OneMiB = 1 << 20;

    public static TheoryData<string, string, int, string> Machines => new()
    {
        // arch, machine, gic, device properties
        { "x86_64", "q35", 2, "" },
        { "x86_64", "q35", 2, ",disable-legacy=on" },
        { "x86_64", "pc", 2, "" },
        { "x86_64", "pc", 2, ",disable-legacy=on" },
        { "aarch64", "virt", 2, "" },
        { "aarch64", "virt", 3, ",disable-legacy=on" },
        // VIRTIO_F_RING_PACKED offered (QEMU's default is packed=off): PackedVirtqueue (§2.8).
        { "x86_64", "q35", 2, ",packed=on" },
        { "aarch64", "virt", 2, ",disable-legacy=on,packed=on" },
    };

    [Theory]
    [MemberData(nameof(Machines))]
    public void Reads_a_MiB_of_entropy(string arch, string machine, int gic, string properties)
    {
        var run = Boot(arch, machine, gic, $"rng.bytes={OneMiB}", Rng(0, properties));
        Assert.True(run.Passed, run.Report());
        // DRIVER_OK is one iowrite8 of 0x0f to common+0x14, as the narration built from the
        // accesses themselves shows (read-modify-write: virtio_add_status reads first).
        var driverOk = StepLine(run, Step.DriverOk);
        Assert.Equal(("3.1.1 step 8", "virtio_device_ready -> vp_modern_set_status"), (driverOk.Spec, driverOk.Linux));
        Assert.Equal(new NarratedAccess("iowrite8", "common+0x14 device_status", 0x0f), driverOk.Accesses.Single(a => a.IsWrite));
        AssertRingLayout(run, packed: properties.Contains("packed=on"));
        Assert.True(run.Printed($"entropy digest: virtio_rng.0 {OneMiB} bytes fnv1a64 "), run.Report());
        // Shut down as Linux's remove path does: reset first, then free what the device used.
        Assert.Equal("virtio_rng.0: removed: device reset, then its queue and 8 buffers freed", StepLine(run, Step.Removed).Text);
    }

    // The layout negotiated and the one really set up: QEMU's rng queue has 8 entries, so the
    // split ring puts the available ring at +0x80 and the used ring at +0xc0, while the
    // packed ring's two event suppression structures follow the descriptor ring at +0x80, +0x84.
    private static void AssertRingLayout(RunResult run, bool packed)
    {
        var features = StepLine(run, Step.DriverFeatures).Text;
        Assert.True(packed == Regex.IsMatch(features, @" = [A-Z_0-9 ]*\bRING_PACKED\b"), features);
        string areas = packed ? "driver +0x80 device +0x84" : "driver +0x80 device +0xc0";
        string queue = StepLine(run, Step.Queue).Text;
        Assert.True(queue.StartsWith("queue 0: size 8, desc ") && queue.Contains(areas), queue);
    }

    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void Two_devices_are_driven_at_once(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, $"rng.bytes={OneMiB} quiet", Rng(0, ""), Rng(1, ",disable-legacy=on"));
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("from 2 device(s)"), run.Report());
        foreach (int i in new[] { 0, 1 })
            Assert.True(run.Printed($"entropy digest: virtio_rng.{i} {OneMiB / 2} bytes fnv1a64 "), run.Report());
    }

    [Fact]
    public void Rng_device_selects_one_device()
    {
        var run = Boot("x86_64", "q35", 2, "rng.bytes=65536 rng.device=1 quiet", Rng(0, ""), Rng(1, ""));
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("virtio_rng.0: 0 bytes"), run.Report());
        Assert.True(run.Printed("virtio_rng.1: 65536 bytes"), run.Report());
    }

    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void Without_a_virtio_device_the_kernel_says_so_and_exits_NO_DEVICE(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, "");
        Assert.Equal(RunOutcome.NoDevice, run.Outcome);
        Assert.True(run.Printed("no virtio entropy device"), run.Report());
    }

    [Fact]
    public void Quiet_turns_the_narration_off()
    {
        var run = Boot("x86_64", "q35", 2, "rng.bytes=4096 quiet", Rng(0, ""));
        Assert.True(run.Passed, run.Report());
        Assert.False(run.Printed("vp_modern_set_status"), run.Report());
        Assert.True(run.Printed("entropy: read 4096 bytes"), run.Report());
    }

    // A device that stops answering (QEMU's rate limit: 1 KiB, then nothing for a minute) while
    // the driver sleeps on its MSI-X interrupt: the wake-up timer ends the wait at
    // rng.timeout_ms, the driver resets the silent device once, waits again, and the kernel
    // fails with its own verdict, long before the runner's timeout.
    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void A_device_that_stops_answering_fails_the_read_at_the_timeout(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, "rng.timeout_ms=300", Rng(0, ",max-bytes=1024,period=60000"));
        Assert.Equal(RunOutcome.Fail, run.Outcome);
        Assert.True(run.Printed("MSI-X, a vector per queue plus one for configuration changes"), run.Report());
        Assert.True(run.Printed("virtio_rng.0: no completion after 300 ms (requests still posted), no DEVICE_NEEDS_RESET: resetting and re-initializing it"), run.Report());
        Assert.True(run.Printed("virtio_rng.0: no completion after 300 ms (requests still posted), no DEVICE_NEEDS_RESET: again without completing anything since the last reset; giving up on it"), run.Report());
        Assert.True(run.Printed("GUESTOS-VERDICT: FAIL entropy read failed"), run.Report());
    }

    // rng.poll: the driver polls the used ring although MSI-X is there; no device interrupt.
    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void Rng_poll_reads_without_interrupts(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, "rng.bytes=256K rng.bufsize=16K rng.poll quiet", Rng(0, ""));
        Assert.True(run.Passed, run.Report());
        var line = run.Lines.Single(l => l.Text.StartsWith("virtio_rng.0: ") && l.Text.Contains(" completions, ")).Text;
        var m = Regex.Match(line, @"^virtio_rng\.0: 262144 bytes in (\d+) completions, 0 interrupts, \d+ kicks, 0 resets; 8 x 16384-byte buffers, polling \(no interrupts\)$");
        Assert.True(m.Success, line);
        Assert.InRange(int.Parse(m.Groups[1].Value), 16, 16 + 8);   // 256 KiB in 16 KiB buffers, plus those filled ahead
        Assert.True(run.Printed("interrupts: 0 taken by the CPU"), run.Report());
    }

    // rng.bench: the lines tools/bench parses (GuestBenchLines), with values that agree with
    // each other: the window's bytes in 16 KiB completions (rng.bufsize=16K: with the default,
    // 8 x 128 KiB here, a quarter of the window would be in flight before it opens), never more
    // interrupts than completions, polling when asked, and the copy alone over as many bytes.
    [Theory]
    [InlineData("x86_64", "q35", "", "msix")]
    [InlineData("aarch64", "virt", "", "msix")]
    [InlineData("x86_64", "q35", " rng.poll", "poll")]
    public void Rng_bench_prints_the_benchmark_lines(string arch, string machine, string extra, string irq)
    {
        var run = Boot(arch, machine, 2, "rng.bench=4M rng.bufsize=16K quiet" + extra, Rng(0, ",disable-legacy=on"));
        Assert.True(run.Passed, run.Report());
        var b = GuestBenchLines.Parse(run);
        Assert.Equal((8, 16384, irq, "split", "pci"), (b.Buffers, b.BufferSize, b.Irq, b.Ring, b.Transport));
        Assert.Equal(4L << 20, b.Bytes);
        Assert.InRange(b.Completions, 256 - 8, 256 + 8);
        Assert.InRange(b.Interrupts, 0, irq == "poll" ? 0 : b.Completions);
        Assert.InRange(b.Kicks, 1, b.Completions);
        Assert.True(b.WindowUs > 0 && b.DriverOkUs > 0, run.Report());
        Assert.True(b.CopyBytes == b.Bytes && b.CopyUs > 0, run.Report());   // BENCH-COPY: as many bytes again, no device
        // The boot breakdown before DRIVER_OK: every phase, in boot order, and the firmware
        // walks and the PCI scan run once more after the window (GuestBootPhases).
        var boot = GuestBootPhases.Parse(run);
        Assert.Equal(GuestBootPhases.Names, boot.Phases.Select(p => p.Phase));
        Assert.Equal(["firmware", "pci"], boot.Again.Select(p => p.Phase));
    }

    // rwmmio (Linux's rwmmio tracepoints): every device access printed as it happens, also
    // under quiet, which silences the narrated steps. The notify writes it shows are the
    // driver's kicks, one for one.
    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void Rwmmio_prints_every_device_access(string arch, string machine)
    {
        var run = Boot(arch, machine, 2, "rng.bytes=256K quiet rwmmio", Rng(0, ""));
        Assert.True(run.Passed, run.Report());
        Assert.Empty(NarrationLine.In(run));
        var accesses = run.Lines.Where(l => l.Text.StartsWith("rwmmio: ")).Select(l => l.Text["rwmmio: ".Length..]).ToList();
        Assert.Contains("iowrite8 common+0x14 device_status = 0x0f", accesses);
        Assert.Contains(accesses, a => a.StartsWith("ioread32 config 00:00.0+0x00 vendor_id = ") || a.StartsWith("ioread16 config 00:00.0+0x00 vendor_id = "));
        var stats = run.Lines.Single(l => l.Text.StartsWith("virtio_rng.0: ") && l.Text.Contains(" kicks, ")).Text;
        long kicks = long.Parse(Regex.Match(stats, @"(\d+) kicks, ").Groups[1].Value);
        Assert.Equal(kicks, accesses.Count(a => a.StartsWith("iowrite16 notify+0x0 = ")));
    }

    // The one narrated line of a step, read through the format the kernel prints.
    internal static NarrationLine StepLine(RunResult run, Step step)
    {
        var lines = NarrationLine.In(run).Where(l => l.Step == step).ToList();
        Assert.True(lines.Count == 1, $"{lines.Count} narrated '{step}' steps\n{run.Report()}");
        return lines[0];
    }

    internal static string[] Rng(int index, string properties)
        => [$"rng-random,id=rng{index},filename=/dev/urandom", $"virtio-rng-pci,rng=rng{index}{properties}"];

    internal static RunResult Boot(string arch, string machine, int gic, string append, params string[][] devices)
    {
        var target = TargetArchNames.Parse(arch);
        return QemuRunner.Run(new RunOptions
        {
            KernelPath = Kernels.Path(target),
            Arch = target,
            Machine = machine,
            GicVersion = gic,
            Append = append,
            Timeout = TimeSpan.FromSeconds(120),
            QemuExtra = devices.SelectMany(d => new[] { "-object", d[0] }).ToList(),
            Devices = devices.Select(d => d[1]).ToList(),
        });
    }
}
