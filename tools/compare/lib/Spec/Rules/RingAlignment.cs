namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 2.7 (split ring): descriptor table 16-byte, available ring 2-byte, used ring 4-byte aligned;
/// 2.8 (packed ring): descriptor ring 16, both event suppression areas 4. The low halves of the
/// three addresses the driver writes carry the alignment.
/// </summary>
public sealed class RingAlignment : SpecRule
{
    public override string Id => "ring-alignment";
    public override string Section => "2.7";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST ensure that the physical address of the first byte of each virtqueue part is a multiple of the specified alignment value in the above table.";
    public override string Needs => "memory_region_ops_write on queue_desc, queue_driver, queue_device (low halves)";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        bool judged = false;
        foreach (var session in trace.Sessions())
        {
            bool packed = (DeviceTrace.Accepted(session) & RingPacked) != 0;
            foreach (var e in session.Where(e => e.Kind == DeviceEventKind.Write && e.Register is Register.QueueDescLo or Register.QueueDriverLo or Register.QueueDeviceLo))
            {
                judged = true;
                long align = e.Register switch
                {
                    Register.QueueDescLo => 16,
                    Register.QueueDriverLo => packed ? 4 : 2,
                    _ => 4,
                };
                if (e.Value % align != 0)
                    findings.Add(new($"queue {e.Queue}: {DeviceEvent.RegisterName(e.Register)} 0x{e.Value:x} is not {align}-byte aligned ({(packed ? "packed" : "split")} ring)", [e]));
            }
        }
        return judged ? Result(findings) : NotObservable("no ring address was written");
    }
}
