using GuestOS.Compare;
using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

// make trace's QEMU labels (tools/compare/lib/Timeline.cs) against the stacks real tours saw:
// the timeline is built from each tour's own QEMU trace and backend log, as `make trace` builds it.
public class LabelCheckTests
{
    [Theory]
    [InlineData("aarch64-vhost-user")]
    [InlineData("x86_64-builtin")]
    [InlineData("x86_64-builtin-linux")]
    [InlineData("aarch64-builtin-mmio")]
    public void Every_QEMU_label_make_trace_prints_is_on_a_stack_the_tour_observed(string run)
    {
        var tour = TourFixture.Load(run);
        var labels = LabelCheck.Check(LabelCheck.TraceTimeline(tour), tour.Stops);
        Assert.Contains(labels, l => l.Kind == TimelineKind.StatusWrite);
        Assert.Contains(labels, l => l.Kind == TimelineKind.Interrupt);
        Assert.All(labels, l => Assert.True(l.Confirmed, $"{l.Kind}: {l.Label} is on no stack the tour saw"));
    }

    // virtio_set_status has five callers here (the guest's write, the transport's reset after a
    // write of 0, a PCI command write without bus mastering, the VM starting or stopping, QEMU's
    // own reset): each status event's label must be on the stack of that very call. Every call
    // hits the breakpoint and writes the trace event, so the n-th event is the n-th stop. (Not the
    // Linux recording: its trace was cut to the virtio regions, without the configuration-space
    // writes that explain some of its status events.)
    [Theory]
    [InlineData("aarch64-vhost-user")]
    [InlineData("x86_64-builtin")]
    [InlineData("aarch64-builtin-mmio")]
    public void Each_status_event_is_labelled_by_the_caller_on_its_own_stack(string run)
    {
        var tour = TourFixture.Load(run);
        var events = LabelCheck.TraceTimeline(tour).Where(e => e.Kind == TimelineKind.StatusWrite).ToList();
        var stops = tour.Stops.Where(s => s.Side == Side.Qemu && s.Breakpoint == "virtio_set_status").OrderBy(s => s.At).ToList();
        Assert.True(events.Count >= 3, $"{events.Count} status events");
        Assert.True(stops.Count >= events.Count, $"{stops.Count} virtio_set_status stops for {events.Count} events");
        // Stopped on entry to virtio_set_status: the label up to it (its callees come later).
        string UpToStatus(string label) => label[..(label.IndexOf("virtio_set_status", StringComparison.Ordinal) + "virtio_set_status".Length)];
        for (int i = 0; i < events.Count; i++)
            Assert.True(LabelCheck.OnStack(UpToStatus(events[i].Function), stops[i]),
                $"status event {i} ({events[i].Text}) labelled {events[i].Function}, but its stack is {stops[i].PathKey}");
        // The start is QEMU's own doing, not the guest's.
        Assert.Contains("virtio_reset", events[0].Function);
    }

    [Theory]
    // What Timeline.cs said before the tour disproved it, for the built-in device:
    [InlineData("virtio_pci_notify_write -> virtio_queue_notify")]
    [InlineData("virtio_queue_guest_notifier_read -> virtio_irq -> virtio_notify_vector -> virtio_pci_notify -> msix_notify -> msi_send_message")]
    [InlineData("virtio_pci_common_write -> virtio_set_status -> vu_rng_set_status / virtio_rng_set_status -> vu_rng_start")]
    // Caller and callee swapped: on the stack, but in the wrong order.
    [InlineData("virtio_set_status -> virtio_pci_common_write")]
    public void A_wrong_label_is_disproved(string label)
    {
        var tour = TourFixture.Load("x86_64-builtin");
        var timeline = new[] { new TimelineEntry(0, Layer.Qemu, TimelineKind.Kick, "deliberately wrong", label) };
        Assert.False(Assert.Single(LabelCheck.Check(timeline, tour.Stops)).Confirmed);
    }

    [Fact]
    public void Alternatives_and_prefixes_match_any_of_their_names_in_order()
    {
        var stop = TourFixture.Load("aarch64-vhost-user").Stops.First(s => s.Breakpoint == "vhost_user_set_vring_base");
        Assert.True(LabelCheck.OnStack("virtio_pci_common_write -> nonexistent / vu_rng_start -> vhost_user_*", stop));
        Assert.False(LabelCheck.OnStack("virtio_pci_common_write -> nonexistent -> vhost_user_*", stop));
    }
}
