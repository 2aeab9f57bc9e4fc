namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 4.1.4.3.2: after writing 0 to device_status the driver reads it until it returns 0, and only
/// then writes device_status again (reinitialises). A reset that ends the trace needs no read.
/// </summary>
public sealed class ResetReadBack : SpecRule
{
    public override string Id => "reset-read-back";
    public override string Section => "4.1.4.3.2";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "After writing 0 to device_status, the driver MUST wait for a read of device_status to return 0 before reinitializing the device.";
    public override string Needs => "memory_region_ops_read/write on device_status";

    public override bool AppliesTo(Transport transport) => transport == Transport.PciModern;

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        DeviceEvent? reset = null;
        foreach (var e in trace.Events)
        {
            if (reset is null)
            {
                if (IsStatusWrite(e) && e.Value == 0) reset = e;
                continue;
            }
            if (e.IsRead(Register.DeviceStatus) && e.Value == 0) reset = null;
            else if (IsStatusWrite(e) && e.Value != 0)
            {
                findings.Add(new("device_status written again before a read of it returned 0 after the reset", [reset, e]));
                reset = null;
            }
        }
        return Result(findings);
    }
}
