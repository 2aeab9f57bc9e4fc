using System.Diagnostics;
using System.Text.RegularExpressions;
using GuestOS.Compare.Report;
using GuestOS.Compare.Spec;
using GuestOS.Runner;

namespace GuestOS.Compare.Tests;

// The HTML report rendered by a real browser (Debian's chromium, headless; `make browser-deps`
// installs it): the assertions are on the DOM after the page's script ran, not on the file.
public class HtmlReportTests
{
    private static List<string> Fixture(string name) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".trace")).ToList();

    /// <summary>A recorded run, without booting anything: the fixture's events and an empty console.</summary>
    private static GuestTrace Run(string name, IReadOnlyList<string> lines)
    {
        var events = QemuTraceEvent.ParseAll(lines);
        var result = new RunResult
        {
            Outcome = RunOutcome.Pass, Status = null, Verdict = Verdict.FromLines([]), Lines = [], QemuStderr = [],
            FirstByteAt = null, Duration = TimeSpan.Zero, Timeout = null, CommandLine = [],
        };
        return new GuestTrace(name, events[0].At - 0.5, events, [], [], result);
    }

    public static string DumpDom(string html)
    {
        string file = Path.Combine(Path.GetTempPath(), $"guestos-report-{Guid.NewGuid():N}.html");
        File.WriteAllText(file, html);
        string chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
                          ?? throw new FileNotFoundException("chromium is not installed: run `make browser-deps`");
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + file }) start.ArgumentList.Add(arg);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "chromium did not finish within 60 s");
        Assert.True(p.ExitCode == 0, $"chromium exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    [Fact]
    public void Chromium_renders_the_lanes_the_arrows_the_side_by_side_rows_and_findings_linked_to_their_trace_lines()
    {
        var guestLines = Fixture("guestos-x86_64");
        // One violation to show: GuestOS's kick moved before DRIVER_OK.
        int kick = guestLines.FindIndex(l => l.Contains(":virtio_queue_notify "));
        string kickLine = guestLines[kick];
        guestLines.RemoveAt(kick);
        guestLines.Insert(guestLines.FindIndex(l => l.Contains("addr 0xfebf801c value 0x1 ") && l.Contains("_write ")) + 1, kickLine);
        var linux = Run("Linux 6.1", Fixture("linux-x86_64"));
        var guest = Run("your guest", guestLines);
        var verdicts = RuleCatalogue.Check(DeviceTrace.Decode(guest.Events, Transport.PciModern));
        string html = HtmlReport.Render("test report", [new(linux.Name, linux, "linux.trace"), new(guest.Name, guest, "guest.trace", verdicts)]);

        // Self-contained: nothing to fetch.
        Assert.DoesNotMatch(@"(src|href)\s*=\s*[""']?(https?:)?//", html);

        string dom = DumpDom(html);
        // The script ran: the diagram exists with its four lanes, one per guest, each with arrows.
        Assert.Equal(2, Regex.Matches(dom, @"<svg[^>]*class=""sequence""[^>]*data-lanes=""4""").Count);
        foreach (var lane in Lanes.Names) Assert.Equal(2, Regex.Matches(dom, $@"<text[^>]*class=""lane""[^>]*>{lane}</text>").Count);
        int arrows = Regex.Matches(dom, @"<line[^>]*class=""arrow").Count;
        Assert.True(arrows >= SequenceDiagram.Build(linux).Count(m => m.From != m.To), $"{arrows} arrows");
        Assert.Contains(">status &lt;- 0x0f (ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK)</text>", dom);
        // (The fixtures hold no MSI-X table writes: the interrupt lane is checked on a real run, in CheckGuestTests.)

        // The side-by-side table: one row per aligned step, the different ones highlighted.
        var rows = SideBySide.Align(linux.Steps, guest.Steps);
        Assert.Equal(rows.Count(r => r.Same), Regex.Matches(dom, @"<tr class=""same"">").Count);
        Assert.Equal(rows.Count(r => !r.Same), Regex.Matches(dom, @"<tr class=""diff"">").Count);
        Assert.True(rows.Count(r => !r.Same) > 0);
        Assert.Contains("<td>DIFFERENT</td>", dom);

        // The finding, its quoted rule, and a link to the trace line that shows the early kick.
        Assert.Contains("MUST 3.1.1 no-notify-before-driver-ok: queue 0 notified while device_status is 0x0b", dom);
        int line = guestLines.IndexOf(kickLine) + 1;
        Assert.Contains($"<a href=\"#g1-line-{line}\">guest.trace:{line}</a>", dom);
        Assert.Matches($@"<span id=""g1-line-{line}"" class=""traceline"">guest.trace:{line}  {Regex.Escape(kickLine)}</span>", dom);
        Assert.Contains("<section id=\"metrics\">", dom);
    }
}
