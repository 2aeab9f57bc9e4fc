namespace GuestOS.Compare.Spec;

/// <summary>How binding a requirement is (RFC 2119, as virtio 1.2 uses it).</summary>
public enum RuleLevel { Must, Should }

/// <summary>What checking one rule against one run found.</summary>
public enum RuleOutcome { Holds, Violated, NotObservable }

/// <summary>One way the driver broke a rule, and the device events (with their trace lines) that show it.</summary>
public sealed record Finding(string What, IReadOnlyList<DeviceEvent> Evidence);

/// <summary>A rule's result for one run: holds, violated (with findings), or not observable (with why).</summary>
public sealed record RuleVerdict(SpecRule Rule, RuleOutcome Outcome, IReadOnlyList<Finding> Findings, string? Why = null);

/// <summary>
/// One driver requirement of virtio 1.2 that the device's side can observe. Each rule quotes its
/// sentence of the spec, says which trace events it needs, and checks a <see cref="DeviceTrace"/>.
/// </summary>
public abstract class SpecRule
{
    /// <summary>A short stable name: "no-notify-before-driver-ok".</summary>
    public abstract string Id { get; }
    public abstract string Section { get; }
    public abstract RuleLevel Level { get; }
    /// <summary>The requirement, quoted from virtio 1.2 in one line.</summary>
    public abstract string SpecText { get; }
    /// <summary>The QEMU trace events the check reads.</summary>
    public abstract string Needs { get; }

    /// <summary>Rules that belong to one transport's register layout say so here.</summary>
    public virtual bool AppliesTo(Transport transport) => true;

    public RuleVerdict Check(DeviceTrace trace)
    {
        if (!AppliesTo(trace.Transport)) return NotObservable($"not a requirement of the {trace.Transport} transport");
        if (!trace.Touched) return NotObservable("the guest never wrote device_status");
        return Evaluate(trace);
    }

    protected abstract RuleVerdict Evaluate(DeviceTrace trace);

    protected RuleVerdict Holds() => new(this, RuleOutcome.Holds, []);
    protected RuleVerdict NotObservable(string why) => new(this, RuleOutcome.NotObservable, [], why);
    protected RuleVerdict Result(IReadOnlyList<Finding> findings) =>
        new(this, findings.Count == 0 ? RuleOutcome.Holds : RuleOutcome.Violated, findings);

    public string LevelName => Level == RuleLevel.Must ? "MUST" : "SHOULD";
    public override string ToString() => $"{Section} {Id}";

    // Shared vocabulary of the rules.
    protected const long Acknowledge = 1, Driver = 2, DriverOk = 4, FeaturesOk = 8, NeedsReset = 0x40, Failed = 0x80;
    protected const ulong VersionOne = 1UL << 32, RingPacked = 1UL << 34;

    protected static bool IsStatusWrite(DeviceEvent e) => e.IsWrite(Register.DeviceStatus);

    /// <summary>Where a session first set <paramref name="bit"/> in device_status, or -1.</summary>
    protected static int FirstStatusWith(IReadOnlyList<DeviceEvent> session, long bit)
    {
        for (int i = 0; i < session.Count; i++)
            if (IsStatusWrite(session[i]) && (session[i].Value & bit) != 0) return i;
        return -1;
    }

    /// <summary>Queue set-up (4.1.5.1.3): the registers written while configuring a queue.</summary>
    protected static bool IsQueueSetup(DeviceEvent e) => e.Kind == DeviceEventKind.Write && e.Register is Register.QueueSize
        or Register.QueueMsixVector or Register.QueueEnable or >= Register.QueueDescLo and <= Register.QueueDeviceHi;
}
