using System.Text.RegularExpressions;

namespace GuestOS.Tour;

/// <summary>
/// One frame of gdb's <c>bt</c>: "#7  0x0000555555e9ac34 in memory_region_write_accessor
/// (mr=..., addr=20, ...) at ../softmmu/memory.c:493". Inlined frames have no address; frames
/// without debug information have no file (and may say "from libglib-2.0.so.0").
/// </summary>
public sealed partial record GdbFrame(int Index, ulong? Address, string Function, string Args, string? File, int? Line)
{
    [GeneratedRegex(@"^#(\d+)\s+(?:(0x[0-9a-fA-F]+) in )?(\S+) \((.*)\)(?: at (.+):(\d+)| from .+)?$")]
    private static partial Regex FrameLine();

    public static GdbFrame? Parse(string line)
    {
        var m = FrameLine().Match(line.TrimEnd());
        if (!m.Success) return null;
        return new GdbFrame(
            int.Parse(m.Groups[1].Value),
            m.Groups[2].Success ? Convert.ToUInt64(m.Groups[2].Value, 16) : null,
            m.Groups[3].Value,
            m.Groups[4].Value,
            m.Groups[5].Success ? m.Groups[5].Value : null,
            m.Groups[6].Success ? int.Parse(m.Groups[6].Value) : null);
    }

    /// <summary>Every frame of a <c>bt</c> text, innermost first; other lines ("Backtrace stopped: ...") are skipped.</summary>
    public static IReadOnlyList<GdbFrame> ParseBacktrace(string bt) =>
        bt.Split('\n').Select(Parse).OfType<GdbFrame>().ToList();

    /// <summary>
    /// The value gdb printed for argument <paramref name="name"/>, first word only ("15 '\017'" -> "15"),
    /// or null. gdb writes "val=15", "val=val@entry=15" (the value on entry, the same), or
    /// "data=&lt;optimized out&gt;, data@entry=15" (only the value on entry is known): a known value wins.
    /// </summary>
    public string? Argument(string name)
    {
        string n = Regex.Escape(name);
        var values = Regex.Matches(Args, $@"(?:^|, ){n}(?:@entry)?=(?:{n}@entry=)?([^,]*)")
                          .Select(m => m.Groups[1].Value.Split(' ')[0]).ToList();
        if (values.Count == 0) return null;
        return values.FirstOrDefault(v => v != "<optimized") ?? "<optimized out>";
    }

    /// <summary>"file:line", or "address" / "??" when gdb had no line for it.</summary>
    public string Location => File is not null ? $"{File}:{Line}" : Address is { } a ? $"0x{a:x}" : "??";
}
