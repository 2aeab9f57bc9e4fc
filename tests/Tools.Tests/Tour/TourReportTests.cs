using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

// The tour's folding and ordering, on the records of real tours (aarch64 + vhost-user backend,
// x86_64 + QEMU's built-in virtio-rng-pci).
public class TourReportTests
{
    private static readonly TourResult Vhost = TourFixture.Load("aarch64-vhost-user");
    private static readonly TourResult Builtin = TourFixture.Load("x86_64-builtin");

    private static TourReport Report(TourResult r, TourRng rng) => TourReport.Build(rng, r.Stops, r.Backend);

    [Theory]
    [InlineData(TourRng.VhostUser)]
    [InlineData(TourRng.Builtin)]
    public void Every_chain_function_is_shown_in_chain_order_on_a_stack_that_confirms_its_caller(TourRng rng)
    {
        var report = Report(rng == TourRng.VhostUser ? Vhost : Builtin, rng);
        Assert.Empty(report.Missing);
        Assert.Equal(TourChain.For(rng).Select(s => s.Function), report.Entries.Select(e => e.Step.Function));
        Assert.All(report.Entries, e => Assert.True(e.CallerConfirmed, $"{e.Step.Function}: {e.Shown!.PathKey}"));
    }

    [Theory]
    [InlineData(TourRng.VhostUser)]
    [InlineData(TourRng.Builtin)]
    public void The_store_shown_is_the_guests_one_byte_write_of_0x0f_to_common_0x14_with_the_guests_frames(TourRng rng)
    {
        var report = Report(rng == TourRng.VhostUser ? Vhost : Builtin, rng);
        var store = report.Entries.Single(e => e.Step.Function == "virtio_pci_common_write");
        var accessor = store.Shown!.Frame("memory_region_write_accessor")!;
        Assert.Equal(("20", "1"), (accessor.Argument("addr"), accessor.Argument("size")));
        Assert.Equal("15", store.Shown.Frame("memory_region_dispatch_write")!.Argument("data"));
        Assert.Equal("15", report.Entries.Single(e => e.Step.Function == "virtio_set_status").Shown!.Frames[0].Argument("val"));

        // The guest: vp_modern_set_status(15) on entry, then the store itself in iowrite8 with Io.iowrite8's value 15.
        Assert.Equal(2, store.Guest.Count);
        Assert.EndsWith(TourChain.GuestStatusWrite, store.Guest[0].Frames[0].Function);
        Assert.Equal("15", store.Guest[0].Frames[0].Argument("status"));
        Assert.Equal("iowrite8", store.Guest[1].Frames[0].Function);
        Assert.Equal("15", store.Guest[1].Frames[1].Argument("value"));
        Assert.Contains(store.Guest[1].Frames, f => f.Function.EndsWith("__virtrng_init", StringComparison.Ordinal) && f.File!.EndsWith("VirtioRng.cs", StringComparison.Ordinal));
        // ...and they came before the store reached QEMU.
        Assert.All(store.Guest, g => Assert.True(g.At <= store.Shown.At));

        var interrupt = report.Entries.Single(e => e.Step.Function == "msix_notify");
        Assert.EndsWith(TourChain.GuestInterrupt, Assert.Single(interrupt.Guest).Frames[0].Function);
        Assert.True(interrupt.Guest[0].At >= interrupt.Shown!.At);
    }

    [Fact]
    public void Repeated_hits_are_folded_by_call_path_with_counts_and_the_path_hit_is_shown()
    {
        var report = Report(Vhost, TourRng.VhostUser);
        var write = report.Entries.Single(e => e.Step.Function == "vhost_user_write");
        int recorded = Vhost.Stops.Count(s => s.Breakpoint == "vhost_user_write");
        Assert.Equal(recorded, write.Hits);
        Assert.Equal(recorded, write.Paths.Sum(p => p.Count));
        Assert.Equal(write.Paths.Count, write.Paths.Select(p => p.Path).Distinct().Count());
        Assert.True(write.Paths.Count > 1);
        // Shown: not the first message QEMU wrote, but the one the chain sends (SET_VRING_BASE).
        Assert.NotSame(write.Paths[0].First, write.Shown);
        Assert.Equal("vhost_user_set_vring_base", write.Shown!.Frames.Select(f => f.Function).First(f => f != "vhost_user_write" && f != "vhost_set_vring"));
    }

    [Fact]
    public void The_backend_side_shows_the_chains_message_with_its_handler_and_one_kick_fill_call()
    {
        var b = Report(Vhost, TourRng.VhostUser).Backend!;
        var received = b.ChainMessage[0];
        Assert.Equal(("VHOST_USER_SET_VRING_BASE", BackendEventKind.Received), (received.Request, received.Kind));
        Assert.Contains("case VhostUserRequest.VHOST_USER_SET_VRING_BASE:", Line(received.Handler!));
        Assert.Contains("DescribeRequest", Line(received.LoggedAt!));
        Assert.Equal([BackendEventKind.Kick, BackendEventKind.Fill, BackendEventKind.Call], b.Request.Select(e => e.Kind));
        Assert.True(b.Request[0].At <= b.Request[1].At && b.Request[1].At <= b.Request[2].At);
        Assert.Contains("buffer(s) filled", Line(b.Request[1].LoggedAt!));
        Assert.Equal(Vhost.Backend.Count(e => e.Kind == BackendEventKind.Received), b.Messages.Sum(m => m.Count));
    }

    private static string Line(SourceLocation l) => File.ReadLines(Path.Combine(Support.Repository.Root, l.File)).ElementAt(l.Line - 1);
}
