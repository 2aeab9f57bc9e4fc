namespace GuestOS.Compare.Spec.Rules;

/// <summary>3.1.1 step 5: once FEATURES_OK is set, driver_feature is not written again (until a reset).</summary>
public sealed class NoNewFeaturesAfterFeaturesOk : SpecRule
{
    public override string Id => "no-feature-write-after-features-ok";
    public override string Section => "3.1.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "5. Set the FEATURES_OK status bit. The driver MUST NOT accept new feature bits after this step.";
    public override string Needs => "memory_region_ops_write on driver_feature and device_status";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            int featuresOk = FirstStatusWith(session, FeaturesOk);
            if (featuresOk < 0) continue;
            foreach (var e in session.Skip(featuresOk + 1).Where(e => e.IsWrite(Register.DriverFeature)))
                findings.Add(new($"driver_feature word {e.Select} written after FEATURES_OK", [session[featuresOk], e]));
        }
        return Result(findings);
    }
}
