namespace GuestOS.Runner;

/// <summary>
/// The codes the kernel exits with. QEMU turns code c into exit status (c &lt;&lt; 1) | 1
/// (isa-debug-exit on x86; the aarch64 kernel passes the same value to semihosting SYS_EXIT),
/// so PASS is status 33, FAULT status 39.
/// </summary>
public enum KernelExitCode
{
    Pass = 0x10,
    Fail = 0x11,
    Panic = 0x12,
    Fault = 0x13,
    NoDevice = 0x14,
}
