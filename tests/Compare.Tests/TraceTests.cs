using GuestOS.Runner;

namespace GuestOS.Compare.Tests;

// make trace: one device start and one request across guest, QEMU and the vhost-user backend.
public class TraceTests
{
    // Linux is interrupt-driven: every request ends in a call and an MSI-X message. (GuestOS
    // polls with EVENT_IDX, so whether its one request asks for a call depends on timing:
    // the second test checks only what it always does.)
    [Fact]
    public async Task With_vhost_user_the_trace_shows_the_start_and_one_request_through_every_layer()
    {
        var run = await Runs.LinuxAsync(TargetArch.X86_64, RngKind.VhostUser);
        Assert.True(run.Run.Printed(LinuxGuest.DoneMarker), run.Run.Report());
        var t = Timeline.Build(run).ToList();
        string text = Timeline.Render(t, run.QemuStartedAt);

        int First(Func<TimelineEntry, bool> match, int from = 0)
        {
            int i = t.FindIndex(from, e => match(e));
            Assert.True(i >= 0, "missing from the trace:\n" + text);
            return i;
        }
        // The start: DRIVER_OK reaches QEMU, which starts the backend and hands it the ring.
        int driverOk = First(e => e.Kind == TimelineKind.StatusWrite && e.Text.Contains("DRIVER_OK"));
        int start = First(e => e.Kind == TimelineKind.VhostDevStart, driverOk);
        First(e => e.Kind == TimelineKind.VhostUserMessage && e.Text.Contains("SET_MEM_TABLE"), start);
        First(e => e.Kind == TimelineKind.VhostUserMessage && e.Text.Contains("SET_VRING_BASE")
                   && e.Function.Contains("vhost_virtqueue_start -> vhost_user_set_vring_base -> vhost_user_write"), start);
        First(e => e.Layer == Layer.Backend && e.Text.Contains("VHOST_USER_SET_VRING_KICK"));
        // One request: the kick, the backend's completion, its call, and the interrupt QEMU raises.
        int kick = First(e => e.Kind == TimelineKind.Kick && e.Layer == Layer.Backend, start);
        int completion = First(e => e.Kind == TimelineKind.Completion && e.Layer == Layer.Backend, kick);
        int call = First(e => e.Kind == TimelineKind.Call && e.Layer == Layer.Backend, completion);
        int interrupt = First(e => e.Kind == TimelineKind.Interrupt, call);
        Assert.Contains("msix_notify", t[interrupt].Function);
        Assert.StartsWith("interrupt: MSI-X message for vector 1 (queue)", t[interrupt].Text);
        Assert.Equal(interrupt, t.Count - 1);     // the timeline ends with that interrupt
    }

    [Fact]
    public async Task GuestOS_trace_shows_the_start_its_kick_the_backends_completion_call_and_interrupt()
    {
        // rng.nospin: the reader sleeps at once, so the first completion is always announced by
        // a call and an interrupt (with the spin, a backend quicker than 200 us needs neither).
        var run = await Runs.GuestOsAsync(TargetArch.X86_64, RngKind.VhostUser, bytes: 64, append: "rng.nospin");
        Assert.True(run.Run.Passed, run.Run.Report());
        var t = Timeline.Build(run).ToList();
        string text = Timeline.Render(t, run.QemuStartedAt);
        Assert.True(t.FindIndex(e => e.Kind == TimelineKind.VhostDevStart) is >= 0, text);
        Assert.Contains(t, e => e.Kind == TimelineKind.Kick);
        // GuestOS posts its whole queue of buffers with one kick; the backend fills them
        // and calls, and the call reaches the guest as an MSI-X message.
        Assert.Contains(t, e => e.Layer == Layer.Backend && e.Kind == TimelineKind.Completion && e.Text.Contains("filled (") && !e.Text.Contains("(0 bytes)"));
        Assert.Contains(t, e => e.Kind == TimelineKind.Call);
        Assert.Contains(t, e => e.Kind == TimelineKind.Interrupt);
    }

    // On virtio-mmio (virt, version 2) the labels name the transport's own functions, as the
    // debug QEMU's stacks show them: virtio_mmio_write for the status write and the kick,
    // virtio_mmio_update_irq for the wired line that ends the request.
    [Fact]
    public async Task On_virtio_mmio_the_trace_names_the_mmio_transport_and_ends_with_its_line()
    {
        var run = await Runs.LinuxAsync(TargetArch.Aarch64, RngKind.BuiltinMmio);
        Assert.True(run.Run.Printed(LinuxGuest.DoneMarker), run.Run.Report());
        var t = Timeline.Build(run).ToList();
        string text = Timeline.Render(t, run.QemuStartedAt);
        var driverOk = t.FindIndex(e => e.Kind == TimelineKind.StatusWrite && e.Text.Contains("DRIVER_OK"));
        Assert.True(driverOk >= 0, text);
        Assert.StartsWith("virtio_mmio_write -> virtio_set_status", t[driverOk].Function);
        int kick = t.FindIndex(driverOk, e => e.Kind == TimelineKind.Kick && e.Layer == Layer.Qemu);
        Assert.True(kick > driverOk, text);
        Assert.Equal("virtio_mmio_write -> virtio_queue_notify", t[kick].Function);
        Assert.Equal(TimelineKind.Interrupt, t[^1].Kind);
        Assert.StartsWith("interrupt: the virtio-mmio line asserted (gic_set_irq", t[^1].Text);
        Assert.EndsWith("virtio_notify_vector -> virtio_mmio_update_irq", t[^1].Function);
        Assert.DoesNotContain(t, e => e.Function.Contains("virtio_pci"));
    }
}
