namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 3.1.1 step 4: the driver reads the device's features and writes the subset it accepts, after
/// DRIVER and before FEATURES_OK. Checked in each session that sets FEATURES_OK.
/// </summary>
public sealed class FeaturesBeforeFeaturesOk : SpecRule
{
    public override string Id => "features-before-features-ok";
    public override string Section => "3.1.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "4. Read device feature bits, and write the subset of feature bits understood by the OS and driver to the device.";
    public override string Needs => "memory_region_ops_read/write on device_feature, driver_feature, device_status";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            int featuresOk = FirstStatusWith(session, FeaturesOk);
            if (featuresOk < 0) continue;
            int driver = FirstStatusWith(session, Driver);
            // Where DRIVER is missing or came with FEATURES_OK, status-sequence reports it; judge the whole prefix here.
            var before = session.Take(featuresOk).Skip(driver >= 0 && driver < featuresOk ? driver : 0).ToList();
            int read = before.FindIndex(e => e.IsRead(Register.DeviceFeature));
            int written = before.FindIndex(e => e.IsWrite(Register.DriverFeature));
            if (read < 0) findings.Add(new("FEATURES_OK set without reading device_feature after DRIVER", [session[featuresOk]]));
            else if (written < 0) findings.Add(new("FEATURES_OK set without writing driver_feature after DRIVER", [session[featuresOk]]));
            else if (written < read) findings.Add(new("driver_feature written before device_feature was read", [before[written], before[read]]));
        }
        return Result(findings);
    }
}
