namespace GuestOS.Compare;

/// <summary>What part of the device's life a step belongs to; the comparison aligns all of them.</summary>
public enum StepPhase
{
    /// <summary>Status, features, MSI-X and queue set-up, up to and including DRIVER_OK.</summary>
    BringUp,
    /// <summary>The first request: kick, completion, interrupt.</summary>
    FirstRequest,
    /// <summary>Anything after: the reset at power-off.</summary>
    Shutdown,
}

/// <summary>
/// One semantic step of a device's bring-up, as the device saw it. <see cref="Key"/> is what is
/// compared: it leaves out what does not matter (addresses, timing, redundant reads);
/// <see cref="Detail"/> keeps the rest for the reader.
/// </summary>
public sealed record BringUpStep(double At, StepPhase Phase, string Key, string Detail = "")
{
    public override string ToString() => Detail.Length == 0 ? Key : $"{Key}  ({Detail})";
}
