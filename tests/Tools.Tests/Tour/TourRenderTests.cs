using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

// The tour's three outputs, from a recorded tour: chain order on the terminal, and in Markdown and
// HTML every frame whose source file is there links to its line.
public sealed class TourRenderTests : IDisposable
{
    private readonly string qemuTree = Directory.CreateTempSubdirectory("tour-render-").FullName;

    public void Dispose() => Directory.Delete(qemuTree, recursive: true);

    private static TourReport Report()
    {
        var r = TourFixture.Load("aarch64-vhost-user");
        return TourReport.Build(TourRng.VhostUser, r.Stops, r.Backend);
    }

    [Fact]
    public void The_terminal_prints_the_groups_in_chain_order_with_counts()
    {
        string text = TourRender.Terminal(Report(), "title");
        int[] at = [.. new[] { ChainGroup.DriverOk, ChainGroup.ToBackend, ChainGroup.DeviceCreation, ChainGroup.WayBack }
                       .Select(g => text.IndexOf("== " + TourChain.Title(g), StringComparison.Ordinal))];
        Assert.All(at, i => Assert.True(i >= 0));
        Assert.Equal(at.Order(), at);
        Assert.Contains("virtio_pci_common_write  [29 hits, 3 call paths]", text);
        Assert.True(text.IndexOf("== the backend", StringComparison.Ordinal) > at[1] && text.IndexOf("== the backend", StringComparison.Ordinal) < at[2]);
    }

    [Fact]
    public void The_terminal_prints_the_guests_files_relative_to_the_repository_they_were_built_in()
    {
        // The fixture's kernel was built in /work/wt/tour: its DWARF names absolute paths there.
        string text = TourRender.Terminal(Report(), "title", "/work/wt/tour");
        Assert.Contains("Io.iowrite8 (addr=268435476, value=15 '\\017') at kernel/hal/Io.cs:18", text);
        Assert.Contains("at /work/wt/tour/kernel/hal/Io.cs:18", TourRender.Terminal(Report(), "title"));
    }

    [Fact]
    public void Frames_link_to_their_source_line_when_the_file_is_there_and_the_HTML_escapes_and_keeps_them()
    {
        // A QEMU tree holding one of the files the frames name (build/ beside hw/, as in the fetched source).
        Directory.CreateDirectory(Path.Combine(qemuTree, "src", "build"));
        Directory.CreateDirectory(Path.Combine(qemuTree, "src", "hw", "virtio"));
        File.WriteAllText(Path.Combine(qemuTree, "src", "hw", "virtio", "virtio-pci.c"), "");
        string outDir = Path.Combine(qemuTree, "out");
        var links = new SourceLinks(outDir, Support.Repository.Root, Path.Combine(qemuTree, "src", "build"));

        string md = TourRender.Markdown(Report(), "title", links);
        Assert.Contains("at [../hw/virtio/virtio-pci.c:1331](../src/hw/virtio/virtio-pci.c#L1331)", md);
        Assert.Contains("at `../softmmu/memory.c:493`", md);              // not in this tree: no link
        string session = Path.GetRelativePath(outDir, Path.Combine(Support.Repository.Root, "tools/vhost-user-rng/Backend/VhostUserSession.cs"));
        Assert.Matches($@"\[tools/vhost-user-rng/Backend/VhostUserSession.cs:\d+\]\({System.Text.RegularExpressions.Regex.Escape(session)}#L\d+\)", md);

        string html = TourRender.Html(md, "title");
        Assert.Contains("<a href=\"../src/hw/virtio/virtio-pci.c#L1331\">../hw/virtio/virtio-pci.c:1331</a>", html);
        Assert.Contains("&lt;optimized out&gt;", html);
        Assert.DoesNotContain("<optimized out>", html);
        Assert.DoesNotContain("http", html);                                 // self-contained
    }
}
