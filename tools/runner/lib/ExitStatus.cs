namespace GuestOS.Runner;

/// <summary>
/// QEMU's process exit status, decoded. Only an odd status carries a kernel code; 0 is what
/// QEMU returns when the guest stops without one (a triple fault or reset under -no-reboot,
/// a power-off), and it is never success.
/// </summary>
public sealed record ExitStatus(int Status)
{
    /// <summary>The kernel's exit code when the status carries a known one.</summary>
    public KernelExitCode? Code =>
        (Status & 1) == 1 && Enum.IsDefined(typeof(KernelExitCode), Status >> 1) ? (KernelExitCode)(Status >> 1) : null;

    public bool IsPass => Code == KernelExitCode.Pass;

    /// <summary>The status QEMU exits with when the kernel exits with <paramref name="code"/>.</summary>
    public static int StatusFor(KernelExitCode code) => ((int)code << 1) | 1;

    /// <summary>A short upper-case name for summaries: "PASS", "FAULT", "NO_DEVICE", "NO_STATUS", ...</summary>
    public string Name => Code switch
    {
        KernelExitCode.Pass => "PASS",
        KernelExitCode.Fail => "FAIL",
        KernelExitCode.Panic => "PANIC",
        KernelExitCode.Fault => "FAULT",
        KernelExitCode.NoDevice => "NO_DEVICE",
        _ when Status == 0 => "NO_STATUS",
        _ when Status == 1 => "QEMU_ERROR",
        _ when (Status & 1) == 1 => $"UNKNOWN_CODE_0x{Status >> 1:x2}",
        _ => "NOT_A_KERNEL_STATUS",
    };

    /// <summary>What the status means, in words, for a failure report.</summary>
    public string Meaning => Code switch
    {
        KernelExitCode.Pass => "the kernel reported PASS",
        KernelExitCode.Fail => "the kernel reported a failed test (FAIL)",
        KernelExitCode.Panic => "the kernel panicked (PANIC)",
        KernelExitCode.Fault => "the kernel took an unexpected CPU exception (FAULT)",
        KernelExitCode.NoDevice => "the kernel did not find a device it needs (NO_DEVICE)",
        _ when Status == 0 => "QEMU stopped without a kernel status: triple fault or reset (-no-reboot), or power-off",
        _ when Status == 1 => "QEMU itself failed (bad argument, unloadable kernel), or the kernel exited with code 0",
        _ when (Status & 1) == 1 => $"the kernel exited with code 0x{Status >> 1:x2}, which is not a GuestOS code",
        _ => $"even status {Status} cannot come from the kernel: QEMU crashed or was killed by a signal",
    };
}
