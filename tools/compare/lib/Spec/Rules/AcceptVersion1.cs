namespace GuestOS.Compare.Spec.Rules;

/// <summary>6.1: a modern device offers VIRTIO_F_VERSION_1 (bit 32); the driver must accept it before FEATURES_OK.</summary>
public sealed class AcceptVersion1 : SpecRule
{
    public override string Id => "accept-version-1";
    public override string Section => "6.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "A driver MUST accept VIRTIO_F_VERSION_1 if it is offered.";
    public override string Needs => "memory_region_ops_read on device_feature word 1, writes to driver_feature and device_status";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        if (!trace.OfferedFeatures().TryGetValue(1, out var word1))
            return NotObservable("the guest never read device_feature word 1, where VERSION_1 is offered");
        if ((word1.Value & 1) == 0) return Holds();
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            int featuresOk = FirstStatusWith(session, FeaturesOk);
            if (featuresOk < 0) continue;
            var before = session.Take(featuresOk).ToList();
            if ((DeviceTrace.Accepted(before) & VersionOne) == 0)
            {
                var lastWord1 = before.LastOrDefault(e => e.IsWrite(Register.DriverFeature) && e.Select == 1);
                findings.Add(new("FEATURES_OK set without accepting VERSION_1 (driver_feature word 1, bit 0)",
                                 lastWord1 is null ? [word1.Evidence, session[featuresOk]] : [word1.Evidence, lastWord1, session[featuresOk]]));
            }
        }
        return Result(findings);
    }
}
