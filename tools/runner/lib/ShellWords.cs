using System.Text;

namespace GuestOS.Runner;

/// <summary>
/// POSIX-shell-like word splitting and quoting, so that QEMU_EXTRA="-object 'rng-random,id=r'"
/// means the same to the runner as it would to sh, and so that a dry run prints a command line
/// that can be pasted back into a shell.
/// </summary>
public static class ShellWords
{
    /// <summary>
    /// Splits on unquoted whitespace. Supports '...' (literal), "..." (where \" \\ \$ \` escape),
    /// and a backslash outside quotes escaping the next character. No expansion of any kind.
    /// </summary>
    public static IReadOnlyList<string> Split(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false; // distinguishes an empty quoted word ('') from no word at all
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
                continue;
            }
            inWord = true;
            switch (c)
            {
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new RunOptionsException($"unterminated ' in: {text}");
                    }
                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    i = ReadDoubleQuoted(text, i + 1, word);
                    break;
                case '\\':
                    if (i + 1 < text.Length)
                    {
                        word.Append(text[++i]);
                    }
                    break;
                default:
                    word.Append(c);
                    break;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }

    /// <summary>Reads up to the closing quote; returns its index.</summary>
    private static int ReadDoubleQuoted(string text, int start, StringBuilder word)
    {
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                return i;
            }
            if (c == '\\' && i + 1 < text.Length && "\"\\$`".Contains(text[i + 1]))
            {
                c = text[++i];
            }
            word.Append(c);
        }
        throw new RunOptionsException($"unterminated \" in: {text}");
    }

    /// <summary>Quotes one word so that a POSIX shell reads it back unchanged.</summary>
    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./,=:@%+".Contains(c)))
        {
            return word;
        }
        return "'" + word.Replace("'", "'\\''") + "'";
    }

    /// <summary>The argv as one pasteable shell command line.</summary>
    public static string Join(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));
}
