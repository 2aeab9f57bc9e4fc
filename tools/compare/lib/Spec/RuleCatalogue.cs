using GuestOS.Compare.Spec.Rules;

namespace GuestOS.Compare.Spec;

/// <summary>The driver requirements of virtio 1.2 that `make check-guest` checks, in the order a driver meets them.</summary>
public static class RuleCatalogue
{
    public static IReadOnlyList<SpecRule> All { get; } =
    [
        new StatusSequence(),
        new ResetReadBack(),
        new FeaturesBeforeFeaturesOk(),
        new OnlyOfferedFeatures(),
        new AcceptVersion1(),
        new NoNewFeaturesAfterFeaturesOk(),
        new FeaturesOkReadBack(),
        new MsixVectorReadBack(),
        new QueueSizeNotAboveMax(),
        new QueueSizePowerOfTwo(),
        new RingAlignment(),
        new QueueEnableNotZero(),
        new QueuesBeforeDriverOk(),
        new NoNotifyBeforeDriverOk(),
        new EntropyDeviceWritable(),
    ];

    public static IReadOnlyList<RuleVerdict> Check(DeviceTrace trace) => All.Select(r => r.Check(trace)).ToList();
}
