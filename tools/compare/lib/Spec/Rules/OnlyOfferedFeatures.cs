namespace GuestOS.Compare.Spec.Rules;

/// <summary>2.2.1: every bit written to driver_feature was offered in device_feature (same word).</summary>
public sealed class OnlyOfferedFeatures : SpecRule
{
    public override string Id => "only-offered-features";
    public override string Section => "2.2.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST NOT accept a feature which the device did not offer.";
    public override string Needs => "memory_region_ops_read on device_feature, memory_region_ops_write on driver_feature";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var offered = trace.OfferedFeatures();
        var findings = new List<Finding>();
        bool judged = false;
        foreach (var e in trace.Events.Where(e => e.IsWrite(Register.DriverFeature)))
        {
            if (!offered.TryGetValue(e.Select, out var offer)) continue;   // the guest never read that word: the offer is unknown
            judged = true;
            long extra = e.Value & ~offer.Value;
            if (extra != 0) findings.Add(new($"driver_feature word {e.Select} accepts 0x{extra:x}, which device_feature word {e.Select} (0x{offer.Value:x}) does not offer", [offer.Evidence, e]));
        }
        if (!judged && findings.Count == 0)
            return NotObservable("the guest never wrote a driver_feature word whose device_feature word it had read");
        return Result(findings);
    }
}
