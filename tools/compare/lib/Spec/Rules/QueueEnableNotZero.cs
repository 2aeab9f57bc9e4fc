namespace GuestOS.Compare.Spec.Rules;

/// <summary>4.1.4.3.2: queue_enable is only ever written 1 (a queue is disabled by resetting the device).</summary>
public sealed class QueueEnableNotZero : SpecRule
{
    public override string Id => "queue-enable-not-zero";
    public override string Section => "4.1.4.3.2";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST NOT write a 0 to queue_enable.";
    public override string Needs => "memory_region_ops_write on queue_enable";

    // virtio-mmio disables a queue by writing 0 to QueueReady (4.2.3.4.1): allowed there.
    public override bool AppliesTo(Transport transport) => transport == Transport.PciModern;

    protected override RuleVerdict Evaluate(DeviceTrace trace) =>
        Result(trace.Events.Where(e => e.IsWrite(Register.QueueEnable) && e.Value == 0)
                           .Select(e => new Finding($"queue {e.Queue}: queue_enable written 0", [e])).ToList());
}
