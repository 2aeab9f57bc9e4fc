// Log lines on stderr, one per event, each prefixed with the connection it concerns.
//   level 0 (default): errors, warnings, connections coming and going, broken rings
//   -v : every vhost-user message by name with its decoded fields, and every reply
//   -vv: ring activity as well (kicks, chains served, notifications)
// With --log-timestamps every line starts with the host's wall-clock time, "1795502579.883188 ",
// seconds and microseconds since the Unix epoch: the same clock QEMU's trace lines carry
// (-msg timestamp=on), so guestos-compare can merge both logs into one timeline.

using System;
using System.Globalization;
using System.IO;

namespace VhostUserRng.Backend;

public sealed class Log
{
    private readonly TextWriter _writer;

    private readonly bool _timestamps;

    public Log(TextWriter writer, int verbosity, bool timestamps = false)
    {
        _writer = TextWriter.Synchronized(writer);
        Verbosity = verbosity;
        _timestamps = timestamps;
    }

    public int Verbosity { get; }

    public bool MessagesEnabled => Verbosity >= 1;

    public bool RingEnabled => Verbosity >= 2;

    public void Error(string source, string text) => Write($"{source}: error: {text}");

    public void Warn(string source, string text) => Write($"{source}: warning: {text}");

    public void Info(string source, string text) => Write($"{source}: {text}");

    public void Message(string source, string text)
    {
        if (MessagesEnabled) Write($"{source}: {text}");
    }

    public void Ring(string source, string text)
    {
        if (RingEnabled) Write($"{source}: {text}");
    }

    private void Write(string line)
    {
        if (!_timestamps)
        {
            _writer.WriteLine(line);
            return;
        }
        // Microseconds since the epoch, printed as QEMU prints its trace timestamps.
        long us = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{us / 1_000_000}.{us % 1_000_000:D6} {line}"));
    }
}
