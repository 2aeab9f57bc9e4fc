namespace GuestOS.Tour;

/// <summary>One call path of a function and how often it was hit that way.</summary>
public sealed record FoldedPath(string Path, int Count, TourStop First);

/// <summary>
/// One chain step as observed: the hit shown (the one on the path), how many hits in all, the
/// distinct call paths folded with counts, whether the stack confirms the chain's caller, and
/// for the store and the interrupt, the guest's own stack at that moment.
/// </summary>
public sealed record ChainEntry(ChainStep Step, TourStop? Shown, int Hits, IReadOnlyList<FoldedPath> Paths, IReadOnlyList<TourStop> Guest)
{
    /// <summary>True when the chain's caller is on the shown stack (or the step names none).</summary>
    public bool CallerConfirmed => Shown is not null && (Step.Under is null || Shown.Functions.Contains(Step.Under));
}

/// <summary>The backend's side: the chain's message (received, handler, reply), every message folded, and one request.</summary>
public sealed record BackendSide(
    IReadOnlyList<BackendEvent> ChainMessage,
    IReadOnlyList<(string Request, int Count, BackendEvent First)> Messages,
    IReadOnlyList<BackendEvent> Request);

/// <summary>
/// The tour's recordings put in the chain's order (not hit order): every step of
/// <see cref="TourChain"/> with its folded hits.
/// </summary>
public sealed record TourReport(TourRng Rng, IReadOnlyList<ChainEntry> Entries, BackendSide? Backend, double? DriverOkAt)
{
    public IEnumerable<ChainStep> Missing => Entries.Where(e => e.Shown is null).Select(e => e.Step);

    /// <param name="guestProbes">The guest's own breakpoints (GuestOS when null).</param>
    public static TourReport Build(TourRng rng, IReadOnlyList<TourStop> stops, IReadOnlyList<BackendEvent> backend, GuestProbes? guestProbes = null)
    {
        var probes = guestProbes ?? GuestProbes.For(rng);
        var qemu = stops.Where(s => s.Side == Side.Qemu).OrderBy(s => s.At).ToList();
        var guest = stops.Where(s => s.Side == Side.Guest).OrderBy(s => s.At).ToList();

        // The DRIVER_OK store: virtio_set_status entered with 0x0f, and the common-config write
        // just before it (the same store, one frame out).
        var setOk = qemu.FirstOrDefault(s => s.Breakpoint == "virtio_set_status" && s.Frames.Count > 0 && s.Frames[0].Argument("val") == "15");
        string storeStep = TourChain.Store(rng).Function;
        var store = setOk is null ? null : qemu.LastOrDefault(s => s.Breakpoint == storeStep && s.At <= setOk.At);
        double? driverOk = (store ?? setOk)?.At;

        // The way back starts with the backend's first call after DRIVER_OK (vhost-user), or right after DRIVER_OK.
        var firstCall = backend.FirstOrDefault(e => e.Kind == BackendEventKind.Call && e.At >= (driverOk ?? 0));
        double wayBackFrom = firstCall?.At ?? driverOk ?? 0;

        var entries = new List<ChainEntry>();
        foreach (var step in TourChain.For(rng))
        {
            var hits = qemu.Where(s => s.Breakpoint == step.Function).ToList();
            double from = step.Group switch
            {
                ChainGroup.DeviceCreation => 0,
                ChainGroup.WayBack => wayBackFrom,
                _ => driverOk ?? 0,
            };
            var onPath = hits.Where(s => s.At >= from).ToList();
            var shown = onPath.FirstOrDefault(s => step.Under is null || s.Functions.Contains(step.Under))
                        ?? onPath.FirstOrDefault() ?? hits.FirstOrDefault();
            var paths = hits.GroupBy(s => s.PathKey).Select(g => new FoldedPath(g.Key, g.Count(), g.First())).ToList();
            // The guest's side: the status write's entry and its store, last before the store reached
            // QEMU; the handler, first after the MSI-X message.
            var guestStops = new List<TourStop>();
            if (shown is not null && step.Guest == GuestView.Store)
                foreach (var bp in new Func<string, bool>[] { probes.IsStatusWrite, probes.IsStore })
                    if (guest.LastOrDefault(s => bp(s.Breakpoint) && s.At <= shown.At) is { } g) guestStops.Add(g);
            if (shown is not null && step.Guest == GuestView.Interrupt
                && guest.FirstOrDefault(s => probes.IsInterrupt(s.Breakpoint) && s.At >= shown.At) is { } handler)
                guestStops.Add(handler);
            entries.Add(new ChainEntry(step, shown, hits.Count, paths, guestStops));
        }

        BackendSide? side = null;
        if (rng == TourRng.VhostUser)
        {
            var received = backend.FirstOrDefault(e => e.Kind == BackendEventKind.Received && e.Request == "VHOST_USER_SET_VRING_BASE" && e.At >= (driverOk ?? 0));
            var chainMessage = new List<BackendEvent>();
            if (received is not null)
            {
                chainMessage.Add(received);
                var reply = backend.FirstOrDefault(e => e.Kind == BackendEventKind.Reply && e.Request == received.Request && e.At >= received.At);
                if (reply is not null) chainMessage.Add(reply);
            }
            var messages = backend.Where(e => e.Kind == BackendEventKind.Received)
                .GroupBy(e => e.Request!).Select(g => (g.Key, g.Count(), g.First())).ToList();
            var request = new List<BackendEvent>();
            var kick = backend.FirstOrDefault(e => e.Kind == BackendEventKind.Kick && e.At >= (driverOk ?? 0));
            var fill = kick is null ? null : backend.FirstOrDefault(e => e.Kind == BackendEventKind.Fill && e.At >= kick.At);
            var call = fill is null ? null : backend.FirstOrDefault(e => e.Kind == BackendEventKind.Call && e.At >= fill.At);
            foreach (var e in new[] { kick, fill, call }) if (e is not null) request.Add(e);
            side = new BackendSide(chainMessage, messages, request);
        }
        return new TourReport(rng, entries, side, driverOk);
    }
}
