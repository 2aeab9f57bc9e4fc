using GuestOS.Compare.Spec;
using GuestOS.Runner;

namespace GuestOS.Compare.Tests;

// make check-guest end to end: real guests on the command line `make compare` gives Linux,
// judged by the rule catalogue. Linux 6.1 and GuestOS keep every rule; each GuestOS fault=
// option breaks exactly its rule; guests that never exit, never drive the device, or do not
// boot at all get a clear verdict.
public class CheckGuestTests
{
    private static string TraceFile(string name) =>
        Path.Combine(Path.GetTempPath(), $"guestos-check-{name}-{Guid.NewGuid():N}.trace");

    private static string Q(string word) => ShellWords.Quote(word);

    private static GuestCommandLine LinuxArgs(TargetArch arch, string append = "rng.bytes=4096", bool powerOff = true)
    {
        var linux = Runs.Linux(arch);
        var options = linux.Options(4096);
        return new($"-kernel {Q(linux.KernelPath)} -initrd {Q(linux.Initramfs(powerOff))} -append {Q(options.Append.Replace("rng.bytes=4096", append))}");
    }

    private static GuestCommandLine GuestOsArgs(TargetArch arch, string append) =>
        new($"-kernel {Q(Runs.GuestOsKernel(arch))} -append {Q(append)}");

    private static Task<GuestCheckResult> Check(TargetArch arch, GuestCommandLine guest, RngKind rng = RngKind.Builtin,
                                                TimeSpan? timeLimit = null, TimeSpan? idle = null) =>
        GuestCheck.RunAsync(arch, rng, guest, TraceFile(arch.Name()), Runs.Backend, timeLimit ?? TimeSpan.FromSeconds(120), idle);

    private static string Report(GuestCheckResult r)
    {
        var output = new StringWriter();
        GuestCheck.Write(output, r);
        return output.ToString();
    }

    private static void AssertClean(GuestCheckResult r)
    {
        string report = Report(r);
        Assert.DoesNotContain(r.Verdicts, v => v.Outcome == RuleOutcome.Violated);
        Assert.Equal(CheckReport.ExitClean, GuestCheck.Write(TextWriter.Null, r));
        // The core of 3.1.1 is observable on every run that drives the device.
        foreach (var id in new[] { "status-sequence", "features-ok-read-back", "queues-before-driver-ok", "no-notify-before-driver-ok", "queue-size-power-of-2", "ring-alignment" })
            Assert.True(r.Verdicts.Single(v => v.Rule.Id == id).Outcome == RuleOutcome.Holds, $"{id}:\n{report}");
        Assert.Contains(" hold, 0 violated", report);
    }

    [Theory]
    [InlineData(TargetArch.X86_64, RngKind.Builtin)]
    [InlineData(TargetArch.X86_64, RngKind.VhostUser)]
    [InlineData(TargetArch.Aarch64, RngKind.Builtin)]
    [InlineData(TargetArch.Aarch64, RngKind.VhostUser)]
    [InlineData(TargetArch.Aarch64, RngKind.BuiltinMmio)]
    public async Task Linux_6_1_keeps_every_rule(TargetArch arch, RngKind rng)
    {
        var r = await Check(arch, LinuxArgs(arch), rng);
        Assert.True(r.Run.Run.Printed(LinuxGuest.DoneMarker), r.Run.Run.Report());
        Assert.StartsWith("the guest exited", r.Run.StoppedBecause);
        AssertClean(r);
        Assert.Equal(GuestCheck.TransportOf(rng), r.Device.Transport);
        if (rng == RngKind.BuiltinMmio) return;   // no MSI-X on virtio-mmio: the rest is about vectors and interrupts
        // Linux maps MSI-X vectors and reads them back: that rule was judged, not skipped.
        Assert.Equal(RuleOutcome.Holds, r.Verdicts.Single(v => v.Rule.Id == "msix-vector-read-back").Outcome);

        // The report of this run, in the browser: each completion's MSI-X message crosses the interrupt
        // controller lane; with vhost-user the backend lane carries QEMU's messages and the completion.
        string dom = HtmlReportTests.DumpDom(GuestOS.Compare.Report.HtmlReport.Render("Linux", [new(r.Run.Name, r.Run, r.TraceFile, r.Verdicts)]));
        Assert.Contains(">MSI-X message for vector 1 (queue)</text>", dom);
        Assert.Contains(">interrupt</text>", dom);
        if (rng == RngKind.VhostUser) Assert.Contains(">vhost_dev_start</text>", dom);
        Assert.Contains("not observable: ", dom);
    }

    [Theory]
    [InlineData(TargetArch.X86_64, RngKind.Builtin)]
    [InlineData(TargetArch.X86_64, RngKind.VhostUser)]
    [InlineData(TargetArch.Aarch64, RngKind.Builtin)]
    [InlineData(TargetArch.Aarch64, RngKind.VhostUser)]
    [InlineData(TargetArch.Aarch64, RngKind.BuiltinMmio)]
    public async Task GuestOS_keeps_every_rule(TargetArch arch, RngKind rng)
    {
        var r = await Check(arch, GuestOsArgs(arch, "rng.bytes=4096"), rng);
        Assert.True(r.Run.Run.Passed, r.Run.Run.Report());
        AssertClean(r);
        // With QEMU's own virtio-rng, QEMU pops the buffers and 5.4.6.1 is judged; with vhost-user the backend does.
        var entropy = r.Verdicts.Single(v => v.Rule.Id == "entropy-device-writable");
        Assert.Equal(rng == RngKind.VhostUser ? RuleOutcome.NotObservable : RuleOutcome.Holds, entropy.Outcome);
        Assert.Equal(GuestCheck.TransportOf(rng), r.Device.Transport);
    }

    [Theory]
    [InlineData("notify-before-driver-ok", "no-notify-before-driver-ok")]
    [InlineData("queue-size-odd", "queue-size-power-of-2")]
    [InlineData("feature-after-features-ok", "no-feature-write-after-features-ok")]
    [InlineData("skip-features-ok-read-back", "features-ok-read-back")]
    [InlineData("driver-ok-before-queue-enable", "queues-before-driver-ok")]
    [InlineData("queue-enable-zero", "queue-enable-not-zero")]
    [InlineData("reset-no-wait", "reset-read-back")]
    [InlineData("vector-no-read-back", "msix-vector-read-back")]
    [InlineData("feature-not-offered", "only-offered-features")]
    [InlineData("device-readable-buffer", "entropy-device-writable")]
    [InlineData("queue-size-above-max", "queue-size-not-above-max")]
    [InlineData("ring-misaligned", "ring-alignment")]
    [InlineData("skip-acknowledge", "status-sequence")]
    [InlineData("features-before-read", "features-before-features-ok")]
    [InlineData("no-version-1", "accept-version-1")]
    public async Task Each_GuestOS_fault_is_flagged_with_exactly_its_rule(string fault, string rule)
    {
        var r = await Check(TargetArch.X86_64, GuestOsArgs(TargetArch.X86_64, $"rng.bytes=4096 rng.timeout_ms=2000 fault={fault}"), idle: TimeSpan.FromSeconds(3));
        string report = Report(r);
        Assert.Equal([rule], r.Verdicts.Where(v => v.Outcome == RuleOutcome.Violated).Select(v => v.Rule.Id));
        Assert.Equal(CheckReport.ExitMustViolated, GuestCheck.Write(TextWriter.Null, r));
        // Every piece of evidence is a line of the trace file, at the line number given.
        var lines = File.ReadAllLines(r.TraceFile);
        Assert.All(r.Verdicts.Single(v => v.Rule.Id == rule).Findings.SelectMany(f => f.Evidence),
                   e => Assert.Equal(lines[e.Source.LineNumber - 1], e.Source.Raw));
        Assert.Contains($" {rule}: VIOLATED", report);
    }

    // The transport-neutral rules on virtio-mmio (aarch64 virt, version 2).
    [Theory]
    [InlineData("notify-before-driver-ok", "no-notify-before-driver-ok")]
    [InlineData("queue-size-odd", "queue-size-power-of-2")]
    [InlineData("feature-not-offered", "only-offered-features")]
    [InlineData("queue-size-above-max", "queue-size-not-above-max")]
    [InlineData("ring-misaligned", "ring-alignment")]
    public async Task GuestOS_faults_on_virtio_mmio_are_flagged_with_exactly_their_rule(string fault, string rule)
    {
        var r = await Check(TargetArch.Aarch64, GuestOsArgs(TargetArch.Aarch64, $"rng.bytes=4096 rng.timeout_ms=2000 fault={fault}"), RngKind.BuiltinMmio, idle: TimeSpan.FromSeconds(3));
        Assert.Equal(Transport.Mmio, r.Device.Transport);
        Assert.Equal([rule], r.Verdicts.Where(v => v.Outcome == RuleOutcome.Violated).Select(v => v.Rule.Id));
    }

    [Fact]
    public async Task QEMUs_own_reaction_is_shown_beside_the_violation()
    {
        var r = await Check(TargetArch.X86_64, GuestOsArgs(TargetArch.X86_64, "rng.bytes=4096 rng.timeout_ms=2000 fault=queue-enable-zero"), idle: TimeSpan.FromSeconds(3));
        string report = Report(r);
        Assert.Contains("QEMU: ", report);
        Assert.Contains("wrong value for queue_enable 0", report);
        Assert.Contains("queue-enable-not-zero: VIOLATED", report);
    }

    [Fact]
    public async Task A_guest_that_never_exits_is_stopped_once_the_device_is_idle_after_DRIVER_OK_and_still_judged()
    {
        var r = await Check(TargetArch.X86_64, LinuxArgs(TargetArch.X86_64, powerOff: false), idle: TimeSpan.FromSeconds(3));
        Assert.True(r.Run.Run.Printed("records out"), r.Run.Run.Report());
        Assert.Equal("idle for 3 s after DRIVER_OK", r.Run.StoppedBecause);
        AssertClean(r);
    }

    [Fact]
    public async Task A_guest_that_never_touches_the_device_is_stopped_by_the_time_limit_and_told_it_never_reset_it()
    {
        // Linux without an initramfs cannot load virtio-rng (a module) and, with panic=0, hangs after its panic.
        var linux = Runs.Linux(TargetArch.X86_64);
        var guest = new GuestCommandLine($"-kernel {Q(linux.KernelPath)} -append 'console=ttyS0 quiet panic=0'");
        var r = await Check(TargetArch.X86_64, guest, timeLimit: TimeSpan.FromSeconds(15));
        Assert.Equal("time limit (15 s)", r.Run.StoppedBecause);
        var output = new StringWriter();
        Assert.Equal(CheckReport.ExitNeverReset, GuestCheck.Write(output, r));
        Assert.Contains("never reset the device", output.ToString());
    }

    [Fact]
    public async Task GUEST_arguments_that_do_not_boot_give_QEMUs_error_and_a_clear_message()
    {
        var r = await Check(TargetArch.X86_64, new GuestCommandLine($"-kernel {Q(Runs.GuestOsKernel(TargetArch.X86_64))} -no-such-option"));
        var output = new StringWriter();
        Assert.Equal(GuestCheck.ExitQemuRefused, GuestCheck.Write(output, r));
        Assert.Contains("QEMU did not run the guest; check the GUEST arguments", output.ToString());
        Assert.Contains("-no-such-option", output.ToString());   // QEMU's own words: "invalid option"

        // Nothing to boot, or a file that is not there: said before QEMU starts.
        Assert.Contains("names nothing to boot", Assert.Throws<ArgumentException>(() => new GuestCommandLine("-m 128M")).Message);
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => new GuestCommandLine("-kernel /no/such/kernel")).Message);
        Assert.Contains("names nothing to boot", Assert.Throws<ArgumentException>(() => new GuestCommandLine("-drive if=virtio,format=raw")).Message);
        Assert.Equal("/no/disk.img", Assert.Throws<FileNotFoundException>(() => new GuestCommandLine("-drive if=virtio,file=/no/disk.img")).Message.Split('\'')[1]);
    }
}
