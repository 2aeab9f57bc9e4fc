using GuestOS.Runner;
using Xunit.Abstractions;

namespace GuestOS.Tour.Tests;

/// <summary>
/// Real tours (issue 14's tests): aarch64 with the vhost-user backend and x86_64 with QEMU's
/// built-in device. Every chain function is reached and its stack confirms the chain's caller;
/// the access that enters virtio_pci_common_write is the guest's one-byte store of 0x0f to
/// common+0x14; the guest's C# frames are there for that store and for the interrupt; and
/// every QEMU label `make trace` prints for this run is on a stack the tour saw.
/// Paths come from `make tour-test` (TOUR_QEMU_BUILD, VHOST_USER_RNG); missing ones fail.
/// </summary>
public sealed class TourTests(ITestOutputHelper output)
{
    private static string Root { get; } = FindRoot();

    [Theory]
    [InlineData(TargetArch.Aarch64, TourRng.VhostUser)]
    [InlineData(TargetArch.X86_64, TourRng.Builtin)]
    public async Task The_tour_shows_every_chain_function_on_the_path_with_the_guests_frames(TargetArch arch, TourRng rng)
    {
        var options = new TourOptions
        {
            Arch = arch,
            Rng = rng,
            Kernel = Path.Combine(Root, "build", arch.Name(), "kernel.elf"),
            QemuBuild = Environment.GetEnvironmentVariable("TOUR_QEMU_BUILD") ?? throw new InvalidOperationException("TOUR_QEMU_BUILD is not set: run `make tour-test`"),
            Backend = Environment.GetEnvironmentVariable("VHOST_USER_RNG") ?? throw new InvalidOperationException("VHOST_USER_RNG is not set: run `make tour-test`"),
            Repository = Root,
            OutputDirectory = Path.Combine(Root, "build", "tour-test", $"{arch.Name()}-{rng}"),
        };
        var result = await TourRun.RunAsync(options);
        var report = TourReport.Build(rng, result.Stops, result.Backend);
        string text = TourRender.Terminal(report, $"{arch.Name()} {rng}: {result.Stops.Count} stops in {TourRender.Seconds(result.Duration)}");
        output.WriteLine(text);

        Assert.Empty(report.Missing);
        Assert.All(report.Entries, e => Assert.True(e.CallerConfirmed, $"{e.Step.Function} is not under {e.Step.Under}:\n{text}"));

        // The store: memory_region_write_accessor(addr=20, size=1) -> virtio_pci_common_write, value 15.
        var store = report.Entries.Single(e => e.Step.Function == "virtio_pci_common_write");
        var accessor = store.Shown!.Frame("memory_region_write_accessor");
        Assert.NotNull(accessor);
        Assert.Equal("20", accessor.Argument("addr"));
        Assert.Equal("1", accessor.Argument("size"));
        Assert.Equal("15", store.Shown.Frame("memory_region_dispatch_write")!.Argument("data"));
        var status = report.Entries.Single(e => e.Step.Function == "virtio_set_status");
        Assert.Equal("15", status.Shown!.Frames[0].Argument("val"));

        // The guest's C# frames: vp_modern_set_status(15), and the store itself in iowrite8, called from
        // virtrng_init's DRIVER_OK (C# source lines); the interrupt's handler after the MSI-X message.
        Assert.Equal(2, store.Guest.Count);
        Assert.Equal("15", store.Guest[0].Frames[0].Argument("status"));
        Assert.Equal("iowrite8", store.Guest[1].Frames[0].Function);
        Assert.Contains(store.Guest[1].Frames, f => f.Function.EndsWith("__virtrng_init", StringComparison.Ordinal) && f.File!.EndsWith(".cs", StringComparison.Ordinal));
        var interrupt = report.Entries.Single(e => e.Step.Function == "msix_notify");
        Assert.EndsWith(TourChain.GuestInterrupt, Assert.Single(interrupt.Guest).Frames[0].Function);

        if (rng == TourRng.VhostUser)
        {
            var b = report.Backend!;
            Assert.Equal("VHOST_USER_SET_VRING_BASE", b.ChainMessage[0].Request);
            Assert.NotNull(b.ChainMessage[0].Handler);
            Assert.Equal([BackendEventKind.Kick, BackendEventKind.Fill, BackendEventKind.Call], b.Request.Select(e => e.Kind));
        }

        var labels = LabelCheck.Check(LabelCheck.TraceTimeline(result), result.Stops);
        Assert.NotEmpty(labels);
        Assert.All(labels, l => Assert.True(l.Confirmed, $"make trace's label is on no observed stack: {l.Kind}: {l.Label}"));
    }

    /// <summary>
    /// virtio-mmio (make tour ARCH=aarch64 TRANSPORT=mmio): QEMU's virtio-rng-device on a virt slot,
    /// version 2. The store that enters virtio_mmio_write is the guest's 32-bit write of 0x0f to
    /// Status (0x070), with the guest's frames; the interrupt is the slot's line (virtio_mmio_update_irq)
    /// and GuestOS's handler; make trace's mmio labels are on the stacks seen.
    /// </summary>
    [Fact]
    public async Task The_virtio_mmio_tour_shows_the_mmio_chain_with_the_guests_frames()
    {
        var options = new TourOptions
        {
            Arch = TargetArch.Aarch64,
            Rng = TourRng.BuiltinMmio,
            Kernel = Path.Combine(Root, "build", "aarch64", "kernel.elf"),
            QemuBuild = Environment.GetEnvironmentVariable("TOUR_QEMU_BUILD") ?? throw new InvalidOperationException("TOUR_QEMU_BUILD is not set: run `make tour-test`"),
            Repository = Root,
            OutputDirectory = Path.Combine(Root, "build", "tour-test", "aarch64-builtin-mmio"),
        };
        var result = await TourRun.RunAsync(options);
        var report = TourReport.Build(TourRng.BuiltinMmio, result.Stops, result.Backend);
        string text = TourRender.Terminal(report, $"aarch64 virtio-mmio: {result.Stops.Count} stops in {TourRender.Seconds(result.Duration)}");
        output.WriteLine(text);

        Assert.Empty(report.Missing);
        Assert.All(report.Entries, e => Assert.True(e.CallerConfirmed, $"{e.Step.Function} is not under {e.Step.Under}:\n{text}"));
        var store = report.Entries.Single(e => e.Step.Function == "virtio_mmio_write");
        var write = store.Shown!.Frames[0];
        Assert.Equal(("112", "15", "4"), (write.Argument("offset"), write.Argument("value"), write.Argument("size")));
        Assert.Equal("15", report.Entries.Single(e => e.Step.Function == "virtio_set_status").Shown!.Frames[0].Argument("val"));
        Assert.Equal(2, store.Guest.Count);
        Assert.Equal("15", store.Guest[0].Frames[0].Argument("status"));
        Assert.Equal("iowrite32", store.Guest[1].Frames[0].Function);
        Assert.Equal("15", store.Guest[1].Frames[1].Argument("value"));
        var interrupt = report.Entries.Single(e => e.Step.Function == "virtio_mmio_update_irq");
        Assert.EndsWith(TourChain.GuestInterrupt, Assert.Single(interrupt.Guest).Frames[0].Function);

        var labels = LabelCheck.Check(LabelCheck.TraceTimeline(result), result.Stops);
        Assert.Contains(labels, l => l.Label.Contains("virtio_mmio_update_irq", StringComparison.Ordinal));
        Assert.All(labels, l => Assert.True(l.Confirmed, $"make trace's label is on no observed stack: {l.Kind}: {l.Label}"));
    }

    /// <summary>
    /// Debian's Linux 6.1 (`make linux`) on x86_64 q35: Linux's own frames for its DRIVER_OK store,
    /// from Debian's -dbg symbols of that build (`make tour-test` fetches them once), sit above the
    /// same QEMU chain: vp_modern_set_status(status=15) and then iowrite8(val=15), both under
    /// virtio_device_ready in virtio-rng's probe, before QEMU's virtio_pci_common_write(addr=20, size=1)
    /// -> virtio_set_status(15); the interrupt taken by vring_interrupt (or vp_vring_interrupt).
    /// </summary>
    [Theory]
    [InlineData(TourRng.Builtin)]
    [InlineData(TourRng.VhostUser)]
    public async Task A_Linux_tour_shows_Linuxs_frames_for_its_DRIVER_OK_store_above_the_same_QEMU_chain(TourRng rng)
    {
        var guest = new GuestOS.Compare.LinuxGuest(Path.Combine(Root, "build", "linux", "x86_64"), TargetArch.X86_64);
        var options = new TourOptions
        {
            Arch = TargetArch.X86_64,
            Rng = rng,
            Linux = new LinuxTour(guest, LinuxSymbols.Locate(guest.Directory, Path.Combine(Root, "build", "linux-dbg", "x86_64"))),
            Kernel = guest.KernelPath,
            QemuBuild = Environment.GetEnvironmentVariable("TOUR_QEMU_BUILD") ?? throw new InvalidOperationException("TOUR_QEMU_BUILD is not set: run `make tour-test`"),
            Backend = Environment.GetEnvironmentVariable("VHOST_USER_RNG") ?? throw new InvalidOperationException("VHOST_USER_RNG is not set: run `make tour-test`"),
            Repository = Root,
            OutputDirectory = Path.Combine(Root, "build", "tour-test", $"x86_64-{rng}-linux"),
        };
        var result = await TourRun.RunAsync(options);
        var report = TourReport.Build(rng, result.Stops, result.Backend, GuestProbes.Linux);
        string text = TourRender.Terminal(report, $"x86_64 {rng} Linux: {result.Stops.Count} stops in {TourRender.Seconds(result.Duration)}");
        output.WriteLine(text);

        Assert.Empty(report.Missing);
        Assert.All(report.Entries, e => Assert.True(e.CallerConfirmed, $"{e.Step.Function} is not under {e.Step.Under}:\n{text}"));
        var store = report.Entries.Single(e => e.Step.Function == "virtio_pci_common_write");
        var accessor = store.Shown!.Frame("memory_region_write_accessor")!;
        Assert.Equal(("20", "1"), (accessor.Argument("addr"), accessor.Argument("size")));
        Assert.Equal("15", store.Shown.Frame("memory_region_dispatch_write")!.Argument("data"));
        Assert.Equal("15", report.Entries.Single(e => e.Step.Function == "virtio_set_status").Shown!.Frames[0].Argument("val"));

        Assert.Equal(["vp_modern_set_status", "iowrite8"], store.Guest.Select(g => g.Frames[0].Function));
        Assert.Equal("15", store.Guest[0].Frames[0].Argument("status"));
        Assert.Equal("15", store.Guest[1].Frames[0].Argument("val"));
        Assert.All(store.Guest, g => Assert.Equal("include/linux/virtio_config.h", g.Frame("virtio_device_ready")?.File));
        Assert.All(store.Guest, g => Assert.Equal("drivers/char/hw_random/virtio-rng.c", g.Frame("probe_common")?.File));
        var handler = Assert.Single(report.Entries.Single(e => e.Step.Function == "msix_notify").Guest);
        Assert.Contains(handler.Frames[0].Function, GuestProbes.Linux.Interrupt);

        var labels = LabelCheck.Check(LabelCheck.TraceTimeline(result), result.Stops);
        Assert.NotEmpty(labels);
        Assert.All(labels, l => Assert.True(l.Confirmed, $"make trace's label is on no observed stack: {l.Kind}: {l.Label}"));
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GuestOS.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("GuestOS.sln not found above " + AppContext.BaseDirectory);
    }
}
