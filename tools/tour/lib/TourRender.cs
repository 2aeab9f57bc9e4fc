using System.Globalization;
using System.Net;
using System.Text;

namespace GuestOS.Tour;

/// <summary>
/// Maps a frame's file to a link target relative to the output directory: QEMU's files
/// ("../hw/virtio/virtio.c", relative to its build directory) into the fetched source tree,
/// the guest's C# files (absolute paths in the kernel's DWARF) and the backend's (repository-
/// relative) into the repository. Linux's (relative to its source tree, as Debian's vmlinux
/// names them: "drivers/virtio/virtio.c") into the stable tree at the package's upstream
/// version (<paramref name="linuxVersion"/>, "6.1.192-3" -> tag v6.1.192; Debian's own patches
/// rarely touch these files, so the line is the one that ran). Null when the file is not there
/// (glibc's, say).
/// </summary>
public sealed class SourceLinks(string outputDirectory, string repository, string? qemuBuildDirectory, string? linuxVersion = null)
{
    public const string LinuxStableTree = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/";

    public string? Target(string? file, int? line, bool qemu)
    {
        if (file is null) return null;
        string full = qemu
            ? (qemuBuildDirectory is null ? file : Path.GetFullPath(Path.Combine(qemuBuildDirectory, file)))
            : Path.GetFullPath(Path.Combine(repository, file));
        if (!File.Exists(full)) return qemu ? null : LinuxTarget(file, line);
        return Path.GetRelativePath(outputDirectory, full) + (line is { } l ? $"#L{l}" : "");
    }

    private string? LinuxTarget(string file, int? line)
    {
        if (linuxVersion is null || Path.IsPathRooted(file) || file.Contains("..", StringComparison.Ordinal)) return null;
        string tag = "v" + linuxVersion.Split('-')[0];
        return $"{LinuxStableTree}{file}?h={tag}" + (line is { } l ? $"#n{l}" : "");
    }
}

/// <summary>The report as terminal text, Markdown and one self-contained HTML page.</summary>
public static class TourRender
{
    /// <summary>QEMU frames past these are the TCG/main-loop machinery every stop shares: the terminal stops there.</summary>
    private static readonly HashSet<string> OuterFrames = ["code_gen_buffer", "qemu_main_loop", "main", "qemu_thread_start", "aio_dispatch_handlers"];

    /// <summary>"kernel_GuestOS_Drivers_Virtio_VirtioDevice__virtio_device_ready" -> "VirtioDevice.virtio_device_ready".</summary>
    public static string CSharpName(string symbol)
    {
        int split = symbol.IndexOf("__", StringComparison.Ordinal);
        if (!symbol.StartsWith("kernel_", StringComparison.Ordinal) || split < 0) return symbol;
        string type = symbol[..split];
        return type[(type.LastIndexOf('_') + 1)..] + "." + symbol[(split + 2)..];
    }

    /// <param name="repository">When given, the guest's files (absolute in the kernel's DWARF) print relative to it.</param>
    public static string Terminal(TourReport report, string title, string? repository = null)
    {
        var sb = new StringBuilder().AppendLine(title);
        foreach (var (group, entries) in Groups(report))
        {
            sb.AppendLine().AppendLine($"== {TourChain.Title(group, report.Rng)} ==");
            foreach (var e in entries)
            {
                sb.AppendLine($"{e.Step.Function}  [{Summary(e)}]  {e.Step.Why}");
                if (e.Shown is null) continue;
                foreach (var f in QemuFramesShort(e.Shown)) sb.AppendLine($"    #{f.Index,-2} {f.Function} ({f.Args}) at {f.Location}");
                foreach (var g in e.Guest)
                {
                    sb.AppendLine($"    guest at {CSharpName(g.Breakpoint)} (gdb-multiarch through QEMU's gdbstub):");
                    foreach (var f in g.Frames) sb.AppendLine($"      #{f.Index,-2} {CSharpName(f.Function)} ({f.Args}) at {Where(f, repository)}");
                }
            }
            if (group == ChainGroup.ToBackend && report.Backend is { } b) AppendBackendText(sb, b);
        }
        return sb.ToString();
    }

    private static void AppendBackendText(StringBuilder sb, BackendSide b)
    {
        sb.AppendLine().AppendLine("== the backend (tools/vhost-user-rng, its -vv log) ==");
        foreach (var e in b.ChainMessage) sb.AppendLine($"  {Describe(e)}");
        sb.AppendLine("  every message received (first shown, count):");
        foreach (var (request, count, first) in b.Messages) sb.AppendLine($"    {count,3} x {first.Text}");
        sb.AppendLine("  one request, kick -> fill -> call:");
        foreach (var e in b.Request) sb.AppendLine($"    {Describe(e)}");
    }

    private static string Describe(BackendEvent e) => e.Kind switch
    {
        BackendEventKind.Received => $"received {e.Text}  (logged at {e.LoggedAt}; handler {e.Handler})",
        BackendEventKind.Reply => $"sent {e.Text}  (at {e.LoggedAt})",
        _ => $"{e.Kind.ToString().ToLowerInvariant()}: {e.Text}  (at {e.LoggedAt})",
    };

    private static string Summary(ChainEntry e) =>
        e.Shown is null ? "NEVER REACHED"
        : $"{e.Hits} hit{(e.Hits == 1 ? "" : "s")}, {e.Paths.Count} call path{(e.Paths.Count == 1 ? "" : "s")}"
          + (e.Step.Under is null ? "" : e.CallerConfirmed ? $", called under {e.Step.Under}" : $", NOT under {e.Step.Under}");

    private static IEnumerable<GdbFrame> QemuFramesShort(TourStop s)
    {
        foreach (var f in s.Frames)
        {
            yield return f;
            if (OuterFrames.Contains(f.Function)) yield break;
        }
    }

    private static IEnumerable<(ChainGroup, List<ChainEntry>)> Groups(TourReport report) =>
        report.Entries.GroupBy(e => e.Step.Group).OrderBy(g => g.Key).Select(g => (g.Key, g.ToList()));

    public static string Markdown(TourReport report, string title, SourceLinks links)
    {
        var sb = new StringBuilder().AppendLine($"# {title}").AppendLine();
        sb.AppendLine("Each step: the first hit on the path, its count, its call paths folded. Frames link to their source line.");
        foreach (var (group, entries) in Groups(report))
        {
            sb.AppendLine().AppendLine($"## {TourChain.Title(group, report.Rng)}").AppendLine();
            foreach (var e in entries)
            {
                sb.AppendLine($"### `{e.Step.Function}` — {Summary(e)}").AppendLine().AppendLine(e.Step.Why).AppendLine();
                if (e.Shown is null) continue;
                foreach (var f in e.Shown.Frames) sb.AppendLine($"- `#{f.Index} {f.Function} ({Md(f.Args)})` at {MdLink(f.Location, links.Target(f.File, f.Line, qemu: true))}");
                if (e.Paths.Count > 1)
                {
                    sb.AppendLine().AppendLine("Other call paths:");
                    foreach (var p in e.Paths.Where(p => p.First != e.Shown)) sb.AppendLine($"- {p.Count} x `{string.Join(" <- ", p.Path.Split(" <- ").Take(6))} ...`");
                }
                foreach (var g in e.Guest)
                {
                    sb.AppendLine().AppendLine($"Guest stack at `{CSharpName(g.Breakpoint)}` (gdb-multiarch through QEMU's gdbstub):").AppendLine();
                    foreach (var f in g.Frames) sb.AppendLine($"- `#{f.Index} {CSharpName(f.Function)} ({Md(f.Args)})` at {MdLink(f.Location, links.Target(f.File, f.Line, qemu: false))}");
                }
                sb.AppendLine();
            }
            if (group == ChainGroup.ToBackend && report.Backend is { } b)
            {
                sb.AppendLine("## the backend (tools/vhost-user-rng, its -vv log)").AppendLine();
                foreach (var e in b.ChainMessage.Concat(b.Request))
                    sb.AppendLine($"- {e.Kind.ToString().ToLowerInvariant()}: `{Md(e.Text)}` logged at {Loc(e.LoggedAt, links)}" + (e.Handler is { } h ? $", handled at {Loc(h, links)}" : ""));
                sb.AppendLine().AppendLine("Every message received (count, first):").AppendLine();
                foreach (var (_, count, first) in b.Messages) sb.AppendLine($"- {count} x `{Md(first.Text)}` handled at {Loc(first.Handler, links)}");
                sb.AppendLine();
            }
        }
        return sb.ToString();
    }

    private static string Loc(SourceLocation? l, SourceLinks links) =>
        l is null ? "?" : MdLink(l.ToString(), links.Target(l.File, l.Line, qemu: false));

    private static string Md(string s) => s.Replace("`", "'");

    private static string MdLink(string text, string? target) => target is null ? $"`{text}`" : $"[{text}]({target.Replace(" ", "%20")})";

    /// <summary>The Markdown as one HTML page with no external resources (links become anchors, code stays code).</summary>
    public static string Html(string markdown, string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + WebUtility.HtmlEncode(title) + "</title>");
        sb.AppendLine("<style>body{font-family:sans-serif;max-width:70em;margin:auto}code{font-size:90%}li{font-family:monospace;font-size:85%}</style></head><body>");
        bool inList = false;
        foreach (var line in markdown.Split('\n'))
        {
            bool item = line.StartsWith("- ", StringComparison.Ordinal);
            if (item && !inList) { sb.AppendLine("<ul>"); inList = true; }
            if (!item && inList) { sb.AppendLine("</ul>"); inList = false; }
            if (line.StartsWith("### ", StringComparison.Ordinal)) sb.AppendLine("<h3>" + Inline(line[4..]) + "</h3>");
            else if (line.StartsWith("## ", StringComparison.Ordinal)) sb.AppendLine("<h2>" + Inline(line[3..]) + "</h2>");
            else if (line.StartsWith("# ", StringComparison.Ordinal)) sb.AppendLine("<h1>" + Inline(line[2..]) + "</h1>");
            else if (item) sb.AppendLine("<li>" + Inline(line[2..]) + "</li>");
            else if (line.Length > 0) sb.AppendLine("<p>" + Inline(line) + "</p>");
        }
        if (inList) sb.AppendLine("</ul>");
        return sb.AppendLine("</body></html>").ToString();
    }

    /// <summary>`code` and [text](target) of one Markdown line, everything else escaped.</summary>
    private static string Inline(string line)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < line.Length)
        {
            if (line[i] == '`' && line.IndexOf('`', i + 1) is int end and > 0)
            {
                sb.Append("<code>").Append(WebUtility.HtmlEncode(line[(i + 1)..end])).Append("</code>");
                i = end + 1;
            }
            else if (line[i] == '[' && line.IndexOf("](", i, StringComparison.Ordinal) is int mid and > 0 && line.IndexOf(')', mid) is int close and > 0)
            {
                sb.Append("<a href=\"").Append(WebUtility.HtmlEncode(line[(mid + 2)..close])).Append("\">")
                  .Append(WebUtility.HtmlEncode(line[(i + 1)..mid])).Append("</a>");
                i = close + 1;
            }
            else sb.Append(WebUtility.HtmlEncode(line[i++].ToString()));
        }
        return sb.ToString();
    }

    /// <summary>
    /// One guest-side stop as its call chain from the driver's probe inwards (the first frame whose
    /// name ends in "probe"; 6 frames if none), outermost first: "virtio_dev_probe -> probe_common ->
    /// virtio_device_ready -> iowrite8", then the innermost frame's arguments and line.
    /// </summary>
    public static string GuestChain(TourStop stop, string? repository = null)
    {
        var frames = stop.Frames.ToList();
        if (frames.Count == 0) return "(no frames)";
        int probe = frames.FindIndex(f => f.Function.EndsWith("probe", StringComparison.Ordinal));
        var chain = frames.Take(probe >= 0 ? probe + 1 : 6).Reverse().Select(f => CSharpName(f.Function));
        return $"{string.Join(" -> ", chain)}  ({frames[0].Args} at {Where(frames[0], repository)})";
    }

    /// <summary>A frame's file:line, relative to <paramref name="repository"/> when given (the guest's files are absolute in the kernel's DWARF).</summary>
    private static string Where(GdbFrame f, string? repository) => repository is not null && f.File is { } file && Path.IsPathRooted(file)
        && file.StartsWith(repository.TrimEnd('/') + "/", StringComparison.Ordinal)
        ? $"{Path.GetRelativePath(repository, file)}:{f.Line}" : f.Location;

    /// <summary>The guest sides of the DRIVER_OK store, each guest's stops in the order recorded (entry, then the store).</summary>
    private static IEnumerable<(string Guest, IReadOnlyList<TourStop> Stops)> StoreSides(IEnumerable<(string Guest, TourReport Report)> guests) =>
        guests.Select(g => (g.Guest, g.Report.Entries.FirstOrDefault(e => e.Step.Guest == GuestView.Store)?.Guest ?? []));

    /// <summary>Each guest's own frames for its DRIVER_OK store, one guest after the other (the same QEMU chain is below both).</summary>
    public static string BesideText(IEnumerable<(string Guest, TourReport Report)> guests, string? repository = null)
    {
        var sb = new StringBuilder().AppendLine().AppendLine("== the guests' own frames for the DRIVER_OK store (status 15), the same QEMU chain below ==");
        foreach (var (guest, stops) in StoreSides(guests))
        {
            sb.AppendLine($"  {guest}:");
            if (stops.Count == 0) sb.AppendLine("    (not observed)");
            foreach (var s in stops) sb.AppendLine($"    {GuestChain(s, repository)}");
        }
        return sb.ToString();
    }

    public static string BesideMarkdown(IEnumerable<(string Guest, TourReport Report)> guests, string? repository = null)
    {
        var sb = new StringBuilder().AppendLine().AppendLine("## The guests' own frames for the DRIVER_OK store (status 15)").AppendLine();
        sb.AppendLine("From the driver's probe inwards, at the status write's entry and at the store; the same QEMU chain is below both.").AppendLine();
        foreach (var (guest, stops) in StoreSides(guests))
        {
            if (stops.Count == 0) sb.AppendLine($"- {guest}: not observed");
            foreach (var s in stops) sb.AppendLine($"- {guest}: `{Md(GuestChain(s, repository))}`");
        }
        return sb.ToString();
    }

    public static string LabelsText(IReadOnlyList<LabelVerdict> labels)
    {
        var sb = new StringBuilder().AppendLine().AppendLine("== make trace's QEMU labels against the stacks above ==");
        foreach (var l in labels)
            sb.AppendLine(l.Confirmed ? $"  confirmed  {l.Kind}: {l.Label}  (stack at {l.Evidence!.Breakpoint})" : $"  DISPROVED  {l.Kind}: {l.Label}  (on no stack the tour saw)");
        return sb.ToString();
    }

    public static string LabelsMarkdown(IReadOnlyList<LabelVerdict> labels)
    {
        var sb = new StringBuilder().AppendLine().AppendLine("## make trace's QEMU labels against these stacks").AppendLine();
        foreach (var l in labels)
            sb.AppendLine($"- {(l.Confirmed ? "confirmed" : "DISPROVED")} {l.Kind}: `{l.Label}`" + (l.Confirmed ? $" (stack at `{l.Evidence!.Breakpoint}`)" : ""));
        return sb.ToString();
    }

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
