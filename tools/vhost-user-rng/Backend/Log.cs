// Log lines on stderr, one per event, each prefixed with the connection it concerns.
//   level 0 (default): errors, warnings, connections coming and going, broken rings
//   -v : every vhost-user message by name with its decoded fields, and every reply
//   -vv: ring activity as well (kicks, chains served, notifications)

using System.IO;

namespace VhostUserRng.Backend;

public sealed class Log
{
    private readonly TextWriter _writer;

    public Log(TextWriter writer, int verbosity)
    {
        _writer = TextWriter.Synchronized(writer);
        Verbosity = verbosity;
    }

    public int Verbosity { get; }

    public bool MessagesEnabled => Verbosity >= 1;

    public bool RingEnabled => Verbosity >= 2;

    public void Error(string source, string text) => _writer.WriteLine($"{source}: error: {text}");

    public void Warn(string source, string text) => _writer.WriteLine($"{source}: warning: {text}");

    public void Info(string source, string text) => _writer.WriteLine($"{source}: {text}");

    public void Message(string source, string text)
    {
        if (MessagesEnabled) _writer.WriteLine($"{source}: {text}");
    }

    public void Ring(string source, string text)
    {
        if (RingEnabled) _writer.WriteLine($"{source}: {text}");
    }
}
