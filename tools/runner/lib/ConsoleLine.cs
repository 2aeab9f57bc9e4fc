using System.Globalization;

namespace GuestOS.Runner;

/// <summary>
/// One line of guest console output and when its first byte reached the host, measured from
/// QEMU's start (the process launch), like the kernel log's own timestamps. "Reached" is the
/// pipe read that brought it: lines read together share a stamp, so stamps never decrease but
/// need not differ.
/// </summary>
public sealed record ConsoleLine(TimeSpan At, string Text)
{
    /// <summary>"[  0.153210] text": seconds with microseconds, right-aligned like dmesg.</summary>
    public override string ToString() => $"{FormatTimestamp(At)} {Text}";

    public static string FormatTimestamp(TimeSpan at) =>
        "[" + at.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture).PadLeft(10) + "]";
}
