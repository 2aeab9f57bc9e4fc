using System.Globalization;
using System.Text.RegularExpressions;

namespace GuestOS.Compare;

/// <summary>A log line with the host wall-clock time it belongs to (seconds since the Unix epoch).</summary>
public sealed partial record TimedLine(double At, string Text)
{
    [GeneratedRegex(@"^(\d+\.\d{6}) (.*)$")]
    private static partial Regex StampedPattern();

    /// <summary>A backend line written with --log-timestamps ("1795502579.883188 text"); null otherwise.</summary>
    public static TimedLine? ParseStamped(string line)
    {
        var m = StampedPattern().Match(line);
        return m.Success ? new TimedLine(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value) : null;
    }

    public static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
}
