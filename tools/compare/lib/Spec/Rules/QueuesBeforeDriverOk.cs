namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 3.1.1 steps 7-8: the queues are set up and enabled before DRIVER_OK; setting a queue up
/// after DRIVER_OK (in the same session) means the device went live with a queue half-made.
/// </summary>
public sealed class QueuesBeforeDriverOk : SpecRule
{
    public override string Id => "queues-before-driver-ok";
    public override string Section => "3.1.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "7. Perform device-specific setup, including discovery of virtqueues for the device ... 8. Set the DRIVER_OK status bit. At this point the device is \"live\".";
    public override string Needs => "memory_region_ops_write on device_status and the queue registers";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            int driverOk = FirstStatusWith(session, DriverOk);
            if (driverOk < 0) continue;
            var late = session.Skip(driverOk + 1).FirstOrDefault(IsQueueSetup);
            if (late is not null) findings.Add(new($"{late.Describe()} after DRIVER_OK", [session[driverOk], late]));
        }
        return Result(findings);
    }
}
