namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 3.1.1 step 6: the device may refuse the accepted features by clearing FEATURES_OK, so the
/// driver reads device_status back after setting it, before any device-specific set-up
/// (an MSI-X vector, a queue register) and before DRIVER_OK.
/// </summary>
public sealed class FeaturesOkReadBack : SpecRule
{
    public override string Id => "features-ok-read-back";
    public override string Section => "3.1.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "6. Re-read device status to ensure the FEATURES_OK bit is still set: otherwise, the device does not support our subset of features and the device is unusable.";
    public override string Needs => "memory_region_ops_read/write on device_status and the queue/vector registers";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            int featuresOk = FirstStatusWith(session, FeaturesOk);
            if (featuresOk < 0) continue;
            for (int i = featuresOk + 1; i < session.Count; i++)
            {
                var e = session[i];
                if (e.IsRead(Register.DeviceStatus)) break;
                if (IsQueueSetup(e) || e.IsWrite(Register.MsixConfig) || (IsStatusWrite(e) && (e.Value & DriverOk) != 0))
                {
                    findings.Add(new($"{e.Describe()} before device_status was read back after FEATURES_OK", [session[featuresOk], e]));
                    break;
                }
            }
        }
        return Result(findings);
    }
}
