using System.Text.Json;

namespace GuestOS.Tour;

/// <summary>Which debugger saw a stop: gdb on the QEMU process, or gdb-multiarch on the guest through QEMU's gdbstub.</summary>
public enum Side { Qemu, Guest }

/// <summary>
/// One breakpoint hit as tools/tour/tour.py recorded it: the breakpoint's function, the host's
/// wall clock, the thread, and the backtrace (gdb's own text, parsed).
/// </summary>
public sealed record TourStop(Side Side, string Breakpoint, double At, string? Thread, string Bt)
{
    public IReadOnlyList<GdbFrame> Frames { get; } = GdbFrame.ParseBacktrace(Bt);

    /// <summary>The functions from the innermost frame outwards.</summary>
    public IEnumerable<string> Functions => Frames.Select(f => f.Function);

    /// <summary>The call path as a key for folding: function names only (arguments and addresses differ between hits).</summary>
    public string PathKey => string.Join(" <- ", Functions);

    public GdbFrame? Frame(string function) => Frames.FirstOrDefault(f => f.Function == function);
}

/// <summary>
/// Everything one debugger wrote to its record file (JSON lines). For a Linux guest also the
/// modules whose loading it saw and the breakpoints it could set (a module's function only once
/// that module's symbols were added).
/// </summary>
public sealed record TourRecording(IReadOnlyList<TourStop> Stops, IReadOnlyList<string> Errors, bool Exited,
                                   IReadOnlyList<string> Modules, IReadOnlyList<string> Armed)
{
    public static TourRecording Parse(IEnumerable<string> lines)
    {
        var stops = new List<TourStop>();
        var errors = new List<string>();
        var modules = new List<string>();
        var armed = new List<string>();
        bool exited = false;
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var side = r.GetProperty("side").GetString() == "guest" ? Side.Guest : Side.Qemu;
            switch (r.GetProperty("kind").GetString())
            {
                case "stop":
                    stops.Add(new TourStop(side, r.GetProperty("bp").GetString()!, r.GetProperty("t").GetDouble(),
                        r.TryGetProperty("thread", out var t) ? t.GetString() : null, r.GetProperty("bt").GetString()!));
                    break;
                case "error":
                    errors.Add($"{r.GetProperty("bp").GetString()}: {r.GetProperty("message").GetString()}");
                    break;
                case "exit":
                    exited = true;
                    break;
                case "module":
                    modules.Add(r.GetProperty("name").GetString()!);
                    break;
                case "armed":
                    armed.Add(r.GetProperty("bp").GetString()!);
                    break;
            }
        }
        return new TourRecording(stops, errors, exited, modules, armed);
    }
}
