namespace GuestOS.Runner;

/// <summary>
/// The run was asked for something that cannot work (an x86 machine on aarch64, GIC 4, ...).
/// Thrown before QEMU starts, so that a typo is a usage error and not a confusing QEMU failure.
/// </summary>
public sealed class RunOptionsException(string message) : Exception(message);
