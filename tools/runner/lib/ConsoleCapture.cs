using System.Diagnostics;

namespace GuestOS.Runner;

/// <summary>
/// Reads one of QEMU's output pipes to its end: timestamps every chunk on the shared run clock,
/// notes when the first byte arrived, splits lines and hands each to a callback as it completes.
/// </summary>
internal sealed class ConsoleCapture(Stream stream, Stopwatch clock, Action<ConsoleLine>? onLine, int keepLast = int.MaxValue)
{
    private readonly ConsoleLineSplitter _splitter = new();
    private readonly Queue<ConsoleLine> _lines = new();
    private readonly Lock _gate = new();
    private TimeSpan? _firstByteAt;

    public TimeSpan? FirstByteAt
    {
        get { lock (_gate) { return _firstByteAt; } }
    }

    /// <summary>A snapshot of the lines so far (the last <c>keepLast</c> of them).</summary>
    public IReadOnlyList<ConsoleLine> Lines
    {
        get { lock (_gate) { return _lines.ToList(); } }
    }

    /// <summary>Runs until the pipe closes, i.e. until QEMU has exited or been killed.</summary>
    public async Task PumpAsync()
    {
        var buffer = new byte[4096];
        int count;
        // Unbuffered byte reads: a StreamReader would wait for line ends and blur the timestamps.
        while ((count = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var arrivedAt = clock.Elapsed;
            lock (_gate)
            {
                _firstByteAt ??= arrivedAt;
            }
            foreach (var line in _splitter.Feed(buffer.AsSpan(0, count), arrivedAt))
            {
                Add(line);
            }
        }
        if (_splitter.Flush() is { } last)
        {
            Add(last);
        }
    }

    private void Add(ConsoleLine line)
    {
        lock (_gate)
        {
            _lines.Enqueue(line);
            if (_lines.Count > keepLast)
            {
                _lines.Dequeue();
            }
        }
        onLine?.Invoke(line);
    }
}
