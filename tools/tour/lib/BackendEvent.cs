using System.Globalization;
using System.Text.RegularExpressions;

namespace GuestOS.Tour;

public enum BackendEventKind { Received, Reply, Kick, Fill, Call }

/// <summary>A place in tools/vhost-user-rng: repository-relative file and 1-based line.</summary>
public sealed record SourceLocation(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// One line of the backend's -vv --log-timestamps log ("1795502579.883188 rng.sock0: VHOST_USER_SET_VRING_BASE
/// index=0 num=0"), classified, with the source line that logged it and, for a request, the
/// dispatcher's case that handled it (both found in the backend's source at tour time).
/// </summary>
public sealed partial record BackendEvent(double At, BackendEventKind Kind, string Text, string? Request,
                                          SourceLocation? LoggedAt, SourceLocation? Handler)
{
    [GeneratedRegex(@"^(\d+\.\d+) [^:]+: (.*)$")]
    private static partial Regex StampedLine();

    [GeneratedRegex(@"^(reply )?(VHOST_USER_[A-Z_]+)")]
    private static partial Regex MessageName();

    public static IReadOnlyList<BackendEvent> ParseLog(IEnumerable<string> lines, BackendSource source)
    {
        var events = new List<BackendEvent>();
        foreach (var line in lines)
        {
            var m = StampedLine().Match(line);
            if (!m.Success) continue;
            double at = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            string text = m.Groups[2].Value;
            var msg = MessageName().Match(text);
            if (msg.Success)
            {
                string request = msg.Groups[2].Value;
                bool reply = msg.Groups[1].Success;
                events.Add(new(at, reply ? BackendEventKind.Reply : BackendEventKind.Received, text, request,
                    reply ? source.ReplyLog : source.RequestLog, source.HandlerOf(request)));
            }
            else if (text.EndsWith(": kick", StringComparison.Ordinal))
                events.Add(new(at, BackendEventKind.Kick, text, null, source.KickLog, null));
            else if (text.Contains("buffer(s) filled", StringComparison.Ordinal))
                events.Add(new(at, BackendEventKind.Fill, text, null, source.FillLog, null));
            else if (text.EndsWith(": call", StringComparison.Ordinal))
                events.Add(new(at, BackendEventKind.Call, text, null, source.CallLog, null));
        }
        return events;
    }
}

/// <summary>
/// Where in tools/vhost-user-rng each kind of log line is written and each request handled,
/// found by reading the source (so the locations follow the code, not a table that can go stale).
/// </summary>
public sealed class BackendSource
{
    private readonly Dictionary<string, string[]> files = new();

    public SourceLocation? RequestLog { get; }
    public SourceLocation? ReplyLog { get; }
    public SourceLocation? KickLog { get; }
    public SourceLocation? FillLog { get; }
    public SourceLocation? CallLog { get; }

    /// <param name="repository">The repository root; files are reported relative to it.</param>
    public BackendSource(string repository)
    {
        foreach (var path in Directory.EnumerateFiles(Path.Combine(repository, "tools/vhost-user-rng"), "*.cs", SearchOption.AllDirectories))
        {
            if (path.Contains("/obj/") || path.Contains("/bin/")) continue;
            files[Path.GetRelativePath(repository, path)] = File.ReadAllLines(path);
        }
        RequestLog = Find("MessageDescriber.DescribeRequest(");
        ReplyLog = Find("MessageDescriber.DescribeReply(");
        KickLog = Find(": kick\")");
        FillLog = Find("buffer(s) filled");
        CallLog = Find(": call\")");
    }

    /// <summary>The dispatcher's <c>case VhostUserRequest.NAME:</c> line.</summary>
    public SourceLocation? HandlerOf(string request) => Find($"case VhostUserRequest.{request}:");

    private SourceLocation? Find(string fragment)
    {
        foreach (var (file, lines) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            for (int i = 0; i < lines.Length; i++)
                if (lines[i].Contains(fragment, StringComparison.Ordinal)) return new SourceLocation(file, i + 1);
        return null;
    }
}
