using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

// `make tour GUEST=linux` on a recorded run (Fixtures/x86_64-builtin-linux: Debian's Linux 6.1 of
// `make linux` on q35 with QEMU's virtio-rng-pci, its frames from Debian's -dbg symbols), and the
// choice of those symbols.
public class LinuxTourTests
{
    private static readonly TourResult Linux = TourFixture.Load("x86_64-builtin-linux");

    private static TourReport Report(GuestProbes probes) => TourReport.Build(TourRng.Builtin, Linux.Stops, Linux.Backend, probes);

    [Fact]
    public void Linuxs_own_frames_for_its_DRIVER_OK_store_sit_beside_the_same_QEMU_chain()
    {
        var report = Report(GuestProbes.Linux);
        Assert.Empty(report.Missing);
        Assert.All(report.Entries, e => Assert.True(e.CallerConfirmed, $"{e.Step.Function}: {e.Shown!.PathKey}"));
        var store = report.Entries.Single(e => e.Step.Function == "virtio_pci_common_write");
        Assert.Equal("15", store.Shown!.Frame("memory_region_dispatch_write")!.Argument("data"));

        // The status write's entry (status 15, of the five writes Linux makes), then the one-byte store, both before QEMU saw it.
        Assert.Equal(["vp_modern_set_status", "iowrite8"], store.Guest.Select(g => g.Frames[0].Function));
        Assert.Equal("15", store.Guest[0].Frames[0].Argument("status"));
        Assert.Equal("15", store.Guest[1].Frames[0].Argument("val"));
        Assert.All(store.Guest, g => Assert.True(g.At <= store.Shown.At));
        // Linux's chain as gdb showed it: virtio_device_ready (inlined into virtio-rng.ko's probe_common) below both.
        Assert.All(store.Guest, g => Assert.Equal(
            ["virtio_device_ready", "probe_common", "virtio_dev_probe"], g.Frames.Skip(1).Take(3).Select(f => f.Function)));
        Assert.Equal("drivers/char/hw_random/virtio-rng.c", store.Guest[1].Frame("probe_common")!.File);

        var handler = Assert.Single(report.Entries.Single(e => e.Step.Function == "msix_notify").Guest);
        Assert.Equal("vring_interrupt", handler.Frames[0].Function);
    }

    // Linux's frames name files in its source tree; they link to the stable tree at the package's
    // upstream version, the C# and QEMU links stay as they were.
    [Fact]
    public void Linuxs_frames_link_to_the_stable_tree_at_the_packages_version()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "tour-links");
        var links = new SourceLinks(outDir, Support.Repository.Root, null, "6.1.192-3");
        string md = TourRender.Markdown(Report(GuestProbes.Linux), "title", links);
        Assert.Matches(@"at \[drivers/char/hw_random/virtio-rng\.c:\d+\]\(https://git\.kernel\.org/pub/scm/linux/kernel/git/stable/linux\.git/tree/drivers/char/hw_random/virtio-rng\.c\?h=v6\.1\.192#n\d+\)", md);
        Assert.Contains("(https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/lib/iomap.c?h=v6.1.192#n207)", md);
        Assert.DoesNotContain("git.kernel.org", TourRender.Markdown(Report(GuestProbes.Linux), "title", new SourceLinks(outDir, Support.Repository.Root, null)));
    }

    [Fact]
    public void The_guests_chain_runs_from_the_drivers_probe_to_the_store()
    {
        var store = Report(GuestProbes.Linux).Entries.Single(e => e.Step.Function == "virtio_pci_common_write");
        Assert.StartsWith("virtio_dev_probe -> probe_common -> virtio_device_ready -> iowrite8  (val=15 '\\017'", TourRender.GuestChain(store.Guest[1]));
        string text = TourRender.BesideText([("Linux", Report(GuestProbes.Linux)), ("GuestOS", TourReport.Build(TourRng.Builtin, [], []))]);
        Assert.Contains("virtio_device_ready -> vp_modern_set_status  (mdev=", text);
        Assert.Contains("GuestOS:\n    (not observed)", text.Replace("\r", ""));
    }

    [Fact]
    public void The_guest_record_names_the_modules_loaded_and_the_breakpoints_set()
    {
        var recording = TourRecording.Parse(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Tour", "Fixtures", "x86_64-builtin-linux", "guest.jsonl")));
        Assert.Equal(["virtio_ring", "virtio", "virtio_rng", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_mmio"], recording.Modules);
        Assert.StartsWith("every Linux breakpoint was set", TourRun.LinuxSymbolsLoaded(recording));

        // A guest whose modules never loaded: which breakpoints could not be set, and that do_init_module never stopped.
        var none = TourRecording.Parse(["""{"kind": "armed", "side": "guest", "t": 1, "bp": "iowrite8@virtio_device_ready"}"""]);
        Assert.Equal("Linux's symbols were never loaded for the breakpoint(s) vp_modern_set_status, vring_interrupt, vp_vring_interrupt: "
                     + "no module loads seen (do_init_module never stopped)", TourRun.LinuxSymbolsLoaded(none));
    }

    [Theory]
    [InlineData("linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb", "linux-image-6.1.0-57-cloud-amd64", "6.1.192-3")]
    [InlineData("linux-image-6.1.0-57-cloud-arm64_1%3a6.1.192-3_arm64.deb", "linux-image-6.1.0-57-cloud-arm64", "1:6.1.192-3")]
    public void The_booted_package_and_version_come_from_the_deb_make_linux_fetched(string deb, string package, string version) =>
        Assert.Equal((package, version), LinuxSymbols.PackageOf(deb));

    [Fact]
    public void Symbols_of_the_exact_build_are_used_and_another_versions_are_refused()
    {
        string root = Directory.CreateTempSubdirectory("linux-symbols-").FullName;
        try
        {
            string linux = Path.Combine(root, "linux"), symbols = Path.Combine(root, "dbg");
            Directory.CreateDirectory(Path.Combine(linux, "debs"));
            Directory.CreateDirectory(Path.Combine(linux, "root", "boot"));
            File.WriteAllText(Path.Combine(linux, "debs", "linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb"), "");
            File.WriteAllText(Path.Combine(linux, "root", "boot", "vmlinuz-6.1.0-57-cloud-amd64"), "");
            void Cache(string name) { Directory.CreateDirectory(Path.Combine(symbols, name)); File.WriteAllText(Path.Combine(symbols, name, ".done"), ""); }

            Cache("6.1.0-57-cloud-amd64_6.1.191-1");
            var refused = Assert.Throws<TourException>(() => LinuxSymbols.Locate(linux, symbols));
            Assert.Contains("no debug symbols for the booted kernel linux-image-6.1.0-57-cloud-amd64 6.1.192-3", refused.Message);
            Assert.Contains("only for 6.1.0-57-cloud-amd64_6.1.191-1: another build, refused", refused.Message);

            Cache("6.1.0-57-cloud-amd64_6.1.192-3");
            var found = LinuxSymbols.Locate(linux, symbols);
            Assert.Equal(("linux-image-6.1.0-57-cloud-amd64", "6.1.192-3"), (found.Package, found.Version));
            Assert.Equal(Path.Combine(symbols, "6.1.0-57-cloud-amd64_6.1.192-3", "vmlinux"), found.Vmlinux);

            // The kernel booted must be the package's own.
            File.Move(Path.Combine(linux, "root", "boot", "vmlinuz-6.1.0-57-cloud-amd64"), Path.Combine(linux, "root", "boot", "vmlinuz-6.1.0-58-cloud-amd64"));
            Assert.Contains("boots another kernel than its package", Assert.Throws<TourException>(() => LinuxSymbols.Locate(linux, symbols)).Message);
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
