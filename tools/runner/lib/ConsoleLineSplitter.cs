using System.Text;

namespace GuestOS.Runner;

/// <summary>
/// Cuts a byte stream that arrives in arbitrary chunks into timestamped text lines.
/// A serial console is not a text file: lines end in "\r\n" or "\n", a chunk can end in the
/// middle of a line (or of a UTF-8 sequence), and a crashing kernel can print garbage.
/// So: bytes are buffered per line, "\r" is dropped, a line is decoded only once complete
/// (invalid UTF-8 becomes U+FFFD), control characters are shown as \xNN so that garbage cannot
/// drive the terminal, and an endless line without "\n" is cut every <see cref="MaxLineBytes"/>.
/// </summary>
public sealed class ConsoleLineSplitter
{
    public const int MaxLineBytes = 4096;

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly List<byte> _pending = new(256);
    private TimeSpan _pendingSince;

    /// <summary>True while part of a line has arrived but not its end.</summary>
    public bool HasPartialLine => _pending.Count > 0;

    /// <summary>
    /// Consumes one chunk that arrived at <paramref name="arrivedAt"/>; returns the lines it
    /// completed. A line is stamped with the arrival of its first byte.
    /// </summary>
    public IReadOnlyList<ConsoleLine> Feed(ReadOnlySpan<byte> chunk, TimeSpan arrivedAt)
    {
        var completed = new List<ConsoleLine>();
        foreach (var b in chunk)
        {
            if (b == (byte)'\n')
            {
                completed.Add(TakeLine(arrivedAt));
                continue;
            }
            if (b == (byte)'\r')
            {
                continue;
            }
            if (_pending.Count == 0)
            {
                _pendingSince = arrivedAt;
            }
            _pending.Add(b);
            if (_pending.Count == MaxLineBytes)
            {
                completed.Add(TakeLine(arrivedAt));
            }
        }
        return completed;
    }

    /// <summary>The unterminated last line, if any (at end of stream, or when a run is cut short).</summary>
    public ConsoleLine? Flush() => _pending.Count > 0 ? TakeLine(_pendingSince) : null;

    private ConsoleLine TakeLine(TimeSpan arrivedAt)
    {
        // An empty line ("\n\n") has no first byte of its own: it is stamped with its "\n".
        var at = _pending.Count > 0 ? _pendingSince : arrivedAt;
        var text = Printable(Utf8.GetString(_pending.ToArray()));
        _pending.Clear();
        return new ConsoleLine(at, text);
    }

    /// <summary>Replaces control characters (except tab) by a visible \xNN escape.</summary>
    public static string Printable(string text)
    {
        if (!text.Any(c => char.IsControl(c) && c != '\t'))
        {
            return text;
        }
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (char.IsControl(c) && c != '\t')
            {
                sb.Append(c <= 0xFF ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
