namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 3.1.1 steps 1-3, 5 and 8 as device_status shows them: reset first, then each status bit added
/// in order ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, never one dropped (FAILED may be added
/// at any point: the driver gives up; DEVICE_NEEDS_RESET, set by the device, may be echoed back).
/// Repeated writes of the same value are harmless.
/// </summary>
public sealed class StatusSequence : SpecRule
{
    public override string Id => "status-sequence";
    public override string Section => "3.1.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST follow this sequence to initialize a device: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, re-read, queues, DRIVER_OK.";
    public override string Needs => "memory_region_ops_write on device_status";

    private static readonly long[] Order = [Acknowledge, Driver, FeaturesOk, DriverOk];

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        var first = trace.Events.First(IsStatusWrite);
        if (first.Value != 0)
            findings.Add(new("the first device_status write is not a reset (0): the device was initialised without being reset", [first]));
        foreach (var session in trace.Sessions())
        {
            DeviceEvent? previous = null;
            long status = 0;
            foreach (var e in session.Where(IsStatusWrite))
            {
                if (e.Value == 0 || e.Value == status) { previous = e; status = e.Value; continue; }
                // FAILED may come at any point; NEEDS_RESET is the device's, and a driver that adds its
                // next bit to what it read back (virtio_add_status) writes it back unchanged.
                long added = e.Value & ~status & ~(Failed | NeedsReset), dropped = status & ~e.Value;
                int expected = Order.TakeWhile(b => (status & b) != 0).Count();
                bool ok = dropped == 0 && (added == 0 || (expected < Order.Length && added == Order[expected]));
                if (!ok)
                {
                    string want = expected < Order.Length ? VirtioCommonConfig.DescribeStatus(status | Order[expected]) : "nothing more";
                    findings.Add(new($"device_status went from {VirtioCommonConfig.DescribeStatus(status)} to {VirtioCommonConfig.DescribeStatus(e.Value)}; the next step is {want}",
                                     previous is null ? [e] : [previous, e]));
                }
                previous = e;
                status = e.Value;
            }
        }
        return Result(findings);
    }
}
