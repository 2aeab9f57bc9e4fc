using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

// The tour on virtio-mmio (make tour ARCH=aarch64 TRANSPORT=mmio: QEMU's virtio-rng-device on one of
// virt's slots, version 2), on a recorded run (Fixtures/aarch64-builtin-mmio).
public class MmioTourTests
{
    private static readonly TourResult Mmio = TourFixture.Load("aarch64-builtin-mmio");
    private static readonly TourReport Report = TourReport.Build(TourRng.BuiltinMmio, Mmio.Stops, Mmio.Backend);

    [Fact]
    public void Every_mmio_chain_function_is_shown_in_chain_order_on_a_stack_that_confirms_its_caller()
    {
        Assert.Empty(Report.Missing);
        Assert.Equal(TourChain.For(TourRng.BuiltinMmio).Select(s => s.Function), Report.Entries.Select(e => e.Step.Function));
        Assert.All(Report.Entries, e => Assert.True(e.CallerConfirmed, $"{e.Step.Function}: {e.Shown!.PathKey}"));
    }

    [Fact]
    public void The_store_shown_is_the_guests_32_bit_write_of_0x0f_to_Status_with_the_guests_frames()
    {
        var store = Report.Entries.Single(e => e.Step.Function == "virtio_mmio_write");
        var write = store.Shown!.Frames[0];
        Assert.Equal(("112", "15", "4"), (write.Argument("offset"), write.Argument("value"), write.Argument("size")));

        // The guest: the transport's set_status(15) on entry, then the store in iowrite32 (enabled by that entry for one hit).
        Assert.Equal(2, store.Guest.Count);
        Assert.EndsWith(GuestProbes.GuestOSMmio.StatusWrite, store.Guest[0].Frames[0].Function);
        Assert.Equal("15", store.Guest[0].Frames[0].Argument("status"));
        Assert.Equal("iowrite32", store.Guest[1].Frames[0].Function);
        Assert.Equal("15", store.Guest[1].Frames[1].Argument("value"));
        Assert.Contains(store.Guest[1].Frames, f => f.Function.EndsWith("__virtio_device_ready", StringComparison.Ordinal));
        Assert.All(store.Guest, g => Assert.True(g.At <= store.Shown.At));

        var interrupt = Report.Entries.Single(e => e.Step.Function == "virtio_mmio_update_irq");
        Assert.EndsWith(TourChain.GuestInterrupt, Assert.Single(interrupt.Guest).Frames[0].Function);
        Assert.True(interrupt.Guest[0].At >= interrupt.Shown!.At);
    }
}
