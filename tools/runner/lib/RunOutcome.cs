namespace GuestOS.Runner;

/// <summary>How a run ended. Only <see cref="Pass"/> is success.</summary>
public enum RunOutcome
{
    /// <summary>Status PASS and the verdict line says PASS.</summary>
    Pass,
    Fail,
    Panic,
    Fault,
    NoDevice,
    /// <summary>Status PASS, but the verdict line is missing, FAIL or malformed.</summary>
    VerdictMismatch,
    /// <summary>QEMU status 0: triple fault or reset (with -no-reboot), or a power-off.</summary>
    NoStatus,
    /// <summary>QEMU status 1: QEMU refused to run (its stderr says why).</summary>
    QemuError,
    /// <summary>Any other status: an unknown kernel code, or QEMU killed by a signal.</summary>
    UnknownStatus,
    /// <summary>QEMU was still running when the timeout expired, and was killed.</summary>
    Timeout,
}

public static class RunOutcomes
{
    /// <summary>Decides the outcome from the two independent signals: status and verdict.</summary>
    public static RunOutcome From(ExitStatus status, Verdict verdict) => status.Code switch
    {
        KernelExitCode.Pass => verdict.IsPass ? RunOutcome.Pass : RunOutcome.VerdictMismatch,
        KernelExitCode.Fail => RunOutcome.Fail,
        KernelExitCode.Panic => RunOutcome.Panic,
        KernelExitCode.Fault => RunOutcome.Fault,
        KernelExitCode.NoDevice => RunOutcome.NoDevice,
        _ when status.Status == 0 => RunOutcome.NoStatus,
        _ when status.Status == 1 => RunOutcome.QemuError,
        _ => RunOutcome.UnknownStatus,
    };
}
