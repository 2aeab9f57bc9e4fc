using GuestOS.Drivers.Narration;
using GuestOS.Runner;
using static GuestOS.Kernel.Tests.VirtioRngTests;

namespace GuestOS.Kernel.Tests;

// A driver that breaks its ring on purpose (fault=avail-head: the 20th buffer made available
// names descriptor `num`, which does not exist), and what each device does about it.
//   QEMU's built-in device: virtqueue_pop calls virtio_error ("Guest says index 8 is
//   available"), which sets DEVICE_NEEDS_RESET and raises the configuration interrupt; the
//   driver resets, re-initialises and reads on (spec 2.1.2).
//   vhost-user: our backend marks the ring broken and signals its error eventfd; QEMU 7.2 only
//   logs "vhost vring error in virtqueue 0" and never tells the guest. The driver sees a silent
//   device, resets it at rng.timeout_ms, QEMU stops the backend's ring (GET_VRING_BASE) and sets
//   it up again, and the backend serves it again.
public class DeviceFaultTests
{
    // A misspelt fault= fails the boot before any device is touched and lists every name the
    // kernel knows (drivers/virtio/DriverFaults.Name), so the list cannot fall behind the faults.
    [Fact]
    public void An_unknown_fault_is_refused_with_every_known_name()
    {
        var run = Boot("x86_64", "q35", 2, "fault=queue-size-evn", Rng(0, ",disable-legacy=on"));
        Assert.Equal(RunOutcome.Fail, run.Outcome);
        Assert.True(run.Printed("fault= names: avail-head, notify-before-driver-ok, queue-size-odd, feature-after-features-ok, " +
                                "skip-features-ok-read-back, driver-ok-before-queue-enable, queue-enable-zero, reset-no-wait, " +
                                "vector-no-read-back, feature-not-offered, device-readable-buffer, queue-size-above-max, " +
                                "ring-misaligned, skip-acknowledge, features-before-read, no-version-1"), run.Report());
        Assert.True(run.Printed("GUESTOS-VERDICT: FAIL unknown fault= (its names are listed above)"), run.Report());
    }

    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    public void A_broken_ring_makes_QEMU_ask_for_a_reset_and_the_driver_reads_on(string arch, string machine)
    {
        // 16 KiB buffers: the 20th buffer made available lies well inside the 1 MiB read.
        var run = Boot(arch, machine, 2, "rng.bytes=1M rng.bufsize=16K fault=avail-head", Rng(0, ",disable-legacy=on"));
        Assert.True(run.Passed, run.Report());
        Assert.Contains(run.QemuStderr, l => l.Text.Contains("Guest says index 8 is available"));
        var needsReset = StepLine(run, Step.NeedsReset);
        var status = needsReset.Accesses.Single(a => a.Register == "common+0x14 device_status");
        Assert.True((status.Value & 0x40) != 0, needsReset.ToString());          // DEVICE_NEEDS_RESET read
        Assert.True(run.Printed("entropy: read 1048576 bytes"), run.Report());
        Assert.True(run.Printed(" 1 resets; "), run.Report());
    }

    [Fact]
    public async Task Through_the_backend_the_error_only_reaches_QEMUs_log_and_the_stalled_guest_resets_and_is_served_again()
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath);
        var run = await QemuRunner.RunAsync(Kernels.WithBackend(TargetArch.X86_64, "q35", backend, "rng.bytes=1M rng.bufsize=16K rng.timeout_ms=1000 fault=avail-head"));
        await backend.DisposeAsync();
        string log = "\nbackend log:\n" + string.Join('\n', backend.Log);
        Assert.True(run.Passed, run.Report() + log);
        Assert.Contains(run.QemuStderr, l => l.Text.Contains("vhost vring error in virtqueue 0"));
        Assert.DoesNotContain(NarrationLine.In(run), l => l.Step == Step.NeedsReset);
        Assert.StartsWith("virtio_rng.0: no completion after 1000 ms (requests still posted), no DEVICE_NEEDS_RESET: resetting", StepLine(run, Step.Stalled).Text);
        int broken = backend.Log.ToList().FindIndex(l => l.Contains("vring 0 broken by the guest"));
        int stopped = backend.Log.ToList().FindIndex(l => l.Contains("vring 0: stopped; it was broken"));
        Assert.True(broken >= 0 && stopped > broken, log);
        Assert.True(run.Printed("entropy: read 1048576 bytes"), run.Report());
    }
}
