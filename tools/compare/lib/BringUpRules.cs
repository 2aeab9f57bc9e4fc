namespace GuestOS.Compare;

/// <summary>One rule of the virtio 1.2 initialization sequence (3.1.1) that a sequence broke.</summary>
public sealed record RuleViolation(string Rule, string What)
{
    public override string ToString() => $"{Rule}: {What}";
}

/// <summary>
/// The known-good order every driver must follow (virtio 1.2, 3.1.1; what Linux 6.1 does):
/// status 0 -> 1 -> 3 -> 11 -> 15; device features read before driver features are written,
/// and both before FEATURES_OK; FEATURES_OK read back before any queue set-up; the queue
/// enabled before DRIVER_OK.
/// </summary>
public static class BringUpRules
{
    public const string StatusOrder = "status 0 -> 1 -> 3 -> 11 -> 15";
    public const string FeaturesBeforeFeaturesOk = "features negotiated before FEATURES_OK";
    public const string FeaturesOkReadBack = "FEATURES_OK read back before queue set-up";
    public const string QueueEnabledBeforeDriverOk = "queue enabled before DRIVER_OK";

    private static readonly long[] KnownGoodStatus = [0x00, 0x01, 0x03, 0x0b, 0x0f];

    public static IReadOnlyList<RuleViolation> Check(IReadOnlyList<BringUpStep> steps)
    {
        var violations = new List<RuleViolation>();
        var bringUp = steps.Where(s => s.Phase == StepPhase.BringUp).ToList();
        int Index(Func<string, bool> match) => bringUp.FindIndex(s => match(s.Key));
        bool Starts(string key, string prefix) => key.StartsWith(prefix, StringComparison.Ordinal);

        // 1. The status writes up to DRIVER_OK, repeats collapsed, are exactly the known-good ones.
        var written = new List<long>();
        foreach (var s in bringUp.Where(s => Starts(s.Key, "status <- ")))
        {
            long v = Convert.ToInt64(s.Key.Substring("status <- 0x".Length, 2), 16);
            if (written.Count == 0 || written[^1] != v) written.Add(v);
        }
        if (!written.SequenceEqual(KnownGoodStatus))
            violations.Add(new(StatusOrder, "status writes were " + (written.Count == 0 ? "none" : string.Join(" -> ", written))));

        int featuresOk = Index(k => Starts(k, "status <- 0x0b"));
        int driverOk = Index(k => Starts(k, "status <- 0x0f"));
        int deviceRead = Index(k => Starts(k, "device features word"));
        int driverWrite = Index(k => Starts(k, "driver features word"));
        int readBack = Index(k => Starts(k, "status read back: FEATURES_OK kept"));
        int firstQueue = Index(k => Starts(k, "queue "));
        int enable = Index(k => Starts(k, "queue ") && k.Contains("queue_enable <- 1", StringComparison.Ordinal));

        // 2. Features: read what the device offers, write what the driver accepts, then FEATURES_OK.
        if (deviceRead < 0) violations.Add(new(FeaturesBeforeFeaturesOk, "the device's features were never read"));
        else if (driverWrite < 0) violations.Add(new(FeaturesBeforeFeaturesOk, "the driver's features were never written"));
        else if (driverWrite < deviceRead) violations.Add(new(FeaturesBeforeFeaturesOk, "driver features written before the device's were read"));
        else if (featuresOk >= 0 && featuresOk < driverWrite) violations.Add(new(FeaturesBeforeFeaturesOk, "FEATURES_OK set before the driver features were written"));

        // 3. The device may refuse the features: the driver must read FEATURES_OK back before using the device.
        if (readBack < 0) violations.Add(new(FeaturesOkReadBack, "status never read back with FEATURES_OK after setting it"));
        else if (firstQueue >= 0 && firstQueue < readBack) violations.Add(new(FeaturesOkReadBack, $"queue set-up ('{bringUp[firstQueue].Key}') before the read-back"));

        // 4. A queue is live only once enabled; DRIVER_OK says the driver is done setting up.
        if (enable < 0)
        {
            bool enabledLater = steps.Any(s => s.Phase != StepPhase.BringUp && s.Key.Contains("queue_enable <- 1", StringComparison.Ordinal));
            violations.Add(new(QueueEnabledBeforeDriverOk, enabledLater ? "queue_enable written after DRIVER_OK" : "no queue was ever enabled"));
        }
        else if (driverOk >= 0 && driverOk < enable) violations.Add(new(QueueEnabledBeforeDriverOk, "queue_enable written after DRIVER_OK"));

        return violations;
    }
}
