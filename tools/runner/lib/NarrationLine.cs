using System.Text;
using System.Text.RegularExpressions;
using GuestOS.Drivers.Narration;

namespace GuestOS.Runner;

/// <summary>One register access a narrated step lists: "iowrite8 common+0x14 device_status = 0x0f".</summary>
public sealed record NarratedAccess(string Op, string Register, ulong Value)
{
    public bool IsWrite => Op.StartsWith("iowrite", StringComparison.Ordinal) || Op.StartsWith("out", StringComparison.Ordinal);
    public override string ToString() => $"{Op} {Register} = 0x{Value:x}";
}

/// <summary>
/// A line of GuestOS's boot narration, parsed by the format the kernel prints it in
/// (drivers/narration/Step.cs, compiled into this library too):
/// <c>virtio 00:01.0: driver_ok: status &lt;- DRIVER_OK (0x0f)  spec 3.1.1 step 8 [virtio_device_ready -> vp_modern_set_status] | ioread8 ..., iowrite8 ...</c>.
/// Tools and tests find steps by <see cref="Step"/>, never by the text.
/// </summary>
public sealed partial record NarrationLine(string Device, Step Step, string Text, string Spec, string Linux,
                                           IReadOnlyList<NarratedAccess> Accesses, int AccessCount)
{
    private static readonly Dictionary<string, Step> ByName =
        Enum.GetValues<Step>().ToDictionary(s => Encoding.ASCII.GetString(Steps.Name(s)));

    private static readonly string SpecMarker = Encoding.ASCII.GetString(Steps.SpecMarker);
    private static readonly string AccessesMarker = Encoding.ASCII.GetString(Steps.AccessesMarker);
    private static readonly string AccessSeparator = Encoding.ASCII.GetString(Steps.AccessSeparator);

    /// <summary>The line's step, or null if it is not a narrated step.</summary>
    public static NarrationLine? Parse(string line)
    {
        var head = Head().Match(line);
        if (!head.Success || !ByName.TryGetValue(head.Groups[2].Value, out var step)) return null;
        string rest = line[head.Length..];
        int spec = rest.LastIndexOf(SpecMarker, StringComparison.Ordinal);
        if (spec < 0) return null;
        var tail = Tail().Match(rest[(spec + SpecMarker.Length)..]);
        if (!tail.Success) return null;
        var accesses = new List<NarratedAccess>();
        int count = 0;
        string list = tail.Groups[3].Value;
        if (list.Length > 0)
        {
            var summary = Summary().Match(list);
            if (summary.Success) count = int.Parse(summary.Groups[1].Value);
            else
            {
                foreach (var text in list.Split(AccessSeparator))
                {
                    var a = Access().Match(text);
                    if (!a.Success) return null;
                    accesses.Add(new NarratedAccess(a.Groups[1].Value, a.Groups[2].Value, Convert.ToUInt64(a.Groups[3].Value, 16)));
                }
                count = accesses.Count;
            }
        }
        return new NarrationLine(head.Groups[1].Value, step, rest[..spec], tail.Groups[1].Value, tail.Groups[2].Value, accesses, count);
    }

    /// <summary>Every narrated step of a run, in order.</summary>
    public static IReadOnlyList<NarrationLine> In(IEnumerable<string> lines) => lines.Select(Parse).OfType<NarrationLine>().ToList();

    public static IReadOnlyList<NarrationLine> In(RunResult run) => In(run.Lines.Select(l => l.Text));

    /// <summary>True when the step listed its accesses (it summarises them by count when there are many).</summary>
    public bool AccessesListed => Accesses.Count == AccessCount;

    [GeneratedRegex(@"^(virtio \S+): ([a-z_]+): ")]
    private static partial Regex Head();

    [GeneratedRegex(@"^(.*?) \[([^\]]*)\](?: \| (.*))?$")]
    private static partial Regex Tail();

    [GeneratedRegex(@"^(\d+) accesses \(")]
    private static partial Regex Summary();

    [GeneratedRegex(@"^(\S+) (.+?) = 0x([0-9a-f]+)$")]
    private static partial Regex Access();
}
