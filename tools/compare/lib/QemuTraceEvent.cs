using System.Globalization;
using System.Text.RegularExpressions;

namespace GuestOS.Compare;

/// <summary>
/// One line of QEMU's "log" trace backend, as Debian's QEMU 7.2 writes it with
/// <c>-msg timestamp=on</c>: <c>28940@1795502579.883265:virtio_queue_notify vdev 0x5578 n 0 vq 0x7f2f</c>,
/// that is pid@seconds.microseconds (host wall clock, gettimeofday) : event name, arguments.
/// </summary>
public sealed partial record QemuTraceEvent(double At, string Name, string Args)
{
    /// <summary>The line as QEMU wrote it, and its 1-based number in the trace file: a finding's evidence.</summary>
    public string Raw { get; init; } = "";
    public int LineNumber { get; init; }
    /// <summary>The time exactly as written ("1796587831.603403"; a double would round the microseconds).</summary>
    public string Stamp { get; init; } = "";

    [GeneratedRegex(@"^\d+@(\d+\.\d{6}):(\w+) ?(.*)$")]
    private static partial Regex LinePattern();

    [GeneratedRegex(@"(\w+)[ :]+(0x[0-9a-fA-F]+|-?\d+|'[^']*')")]
    private static partial Regex FieldPattern();

    /// <summary>The event, or null for anything else QEMU logs there (warnings, blank lines).</summary>
    public static QemuTraceEvent? Parse(string line)
    {
        var m = LinePattern().Match(line);
        return m.Success
            ? new QemuTraceEvent(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value, m.Groups[3].Value) { Raw = line, Stamp = m.Groups[1].Value }
            : null;
    }

    public static IReadOnlyList<QemuTraceEvent> ParseAll(IEnumerable<string> lines) =>
        lines.Select((line, i) => Parse(line) is { } e ? e with { LineNumber = i + 1 } : null).OfType<QemuTraceEvent>().ToList();

    /// <summary>
    /// A "key value" or "key: value" argument as a string: <c>Field("name")</c> of a
    /// memory_region_ops_write line is "virtio-pci-common-virtio-rng" (quotes removed).
    /// </summary>
    public string? Field(string key)
    {
        foreach (Match m in FieldPattern().Matches(Args))
            if (m.Groups[1].Value == key) return m.Groups[2].Value.Trim('\'');
        return null;
    }

    /// <summary>A numeric argument, hexadecimal (0x...) or decimal.</summary>
    public long? Number(string key)
    {
        string? text = Field(key);
        if (text is null) return null;
        return text.StartsWith("0x", StringComparison.Ordinal)
            ? (long)ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : long.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>The first number in the arguments that is followed by <paramref name="suffix"/>: "64 bytes pushed".</summary>
    public long? NumberBefore(string suffix)
    {
        var m = Regex.Match(Args, @"(\d+) " + Regex.Escape(suffix));
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }
}
