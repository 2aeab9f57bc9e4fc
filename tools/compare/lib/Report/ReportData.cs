using GuestOS.Compare.Spec;

namespace GuestOS.Compare.Report;

/// <summary>The lanes of the sequence diagram, left to right.</summary>
public static class Lanes
{
    public const int Guest = 0, Device = 1, Backend = 2, InterruptController = 3;
    public static readonly string[] Names = ["guest driver", "QEMU device", "backend", "interrupt controller"];
}

/// <summary>One arrow of the sequence diagram: ms from QEMU's start, from lane, to lane.</summary>
public sealed record Message(double Ms, int From, int To, string Label, string Phase);

/// <summary>One guest in a report: its run, where its trace is, and (for check-guest) the rules' verdicts.</summary>
public sealed record ReportGuest(string Name, GuestTrace Run, string TraceFile, IReadOnlyList<RuleVerdict>? Verdicts = null);

/// <summary>
/// The bring-up and first requests as arrows between the lanes, from the normalized steps
/// (<see cref="BringUpNormalizer"/>) and, with vhost-user, the messages QEMU sends the backend
/// once DRIVER_OK has started it (up to the first completion).
/// </summary>
public static class SequenceDiagram
{
    public static IReadOnlyList<Message> Build(GuestTrace run)
    {
        double Ms(double at) => (at - run.QemuStartedAt) * 1000;
        var messages = new List<Message>();
        foreach (var s in run.Steps)
        {
            string phase = s.Phase.ToString();
            string k = s.Key;
            if (k.StartsWith("interrupt:", StringComparison.Ordinal))
            {
                messages.Add(new(Ms(s.At), Lanes.Device, Lanes.InterruptController, k["interrupt: ".Length..], phase));
                messages.Add(new(Ms(s.At), Lanes.InterruptController, Lanes.Guest, "interrupt", phase));
            }
            else if (k.Contains(" read = ", StringComparison.Ordinal) || k.StartsWith("status read back", StringComparison.Ordinal))
                messages.Add(new(Ms(s.At), Lanes.Device, Lanes.Guest, k, phase));
            else if (k.StartsWith("QEMU starts the vhost-user backend", StringComparison.Ordinal))
                messages.Add(new(Ms(s.At), Lanes.Device, Lanes.Backend, "vhost_dev_start", phase));
            else if (k == "device completes the request")
                messages.Add(new(Ms(s.At), s.Detail.Contains("vhost-user", StringComparison.Ordinal) ? Lanes.Backend : Lanes.Device, Lanes.Guest,
                                 "used buffer: " + s.Detail, phase));
            else
                messages.Add(new(Ms(s.At), Lanes.Guest, Lanes.Device, k, phase));
        }
        // vhost-user: what QEMU tells the backend between starting it and the first completion.
        var start = run.Steps.FirstOrDefault(s => s.Key.StartsWith("QEMU starts the vhost-user backend", StringComparison.Ordinal));
        var done = run.Steps.FirstOrDefault(s => s.Key == "device completes the request");
        if (start is not null)
        {
            foreach (var e in Timeline.Build(run).Where(e => e.Kind == TimelineKind.VhostUserMessage && e.At >= start.At && (done is null || e.At <= done.At)))
                messages.Add(new(Ms(e.At), Lanes.Device, Lanes.Backend, e.Text, StepPhase.FirstRequest.ToString()));
        }
        return messages.OrderBy(m => m.Ms).ToList();
    }
}
