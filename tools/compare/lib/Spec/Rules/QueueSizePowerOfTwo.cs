namespace GuestOS.Compare.Spec.Rules;

/// <summary>4.1.4.3.2: a split ring's size is a power of 2; a packed ring's is not 0.</summary>
public sealed class QueueSizePowerOfTwo : SpecRule
{
    public override string Id => "queue-size-power-of-2";
    public override string Section => "4.1.4.3.2";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "If VIRTIO_F_RING_PACKED has not been negotiated, the driver MUST NOT write a value which is not a power of 2 to queue_size.";
    public override string Needs => "memory_region_ops_write on queue_size and driver_feature";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            bool packed = (DeviceTrace.Accepted(session) & RingPacked) != 0;
            foreach (var e in session.Where(e => e.IsWrite(Register.QueueSize)))
            {
                if (packed ? e.Value == 0 : e.Value == 0 || (e.Value & (e.Value - 1)) != 0)
                    findings.Add(new(packed ? "queue_size 0 written for a packed ring" : $"queue_size {e.Value} is not a power of 2 (split ring)", [e]));
            }
        }
        return Result(findings);
    }
}
