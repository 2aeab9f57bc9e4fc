namespace GuestOS.Runner;

/// <summary>The two guest architectures GuestOS boots on.</summary>
public enum TargetArch
{
    X86_64,
    Aarch64,
}

/// <summary>Names of the architectures as the build uses them (ARCH=x86_64 / ARCH=aarch64).</summary>
public static class TargetArchNames
{
    public static string Name(this TargetArch arch) => arch switch
    {
        TargetArch.X86_64 => "x86_64",
        TargetArch.Aarch64 => "aarch64",
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>Accepts the build's spelling plus the usual aliases (amd64, x64, arm64).</summary>
    public static TargetArch Parse(string name) => name.ToLowerInvariant() switch
    {
        "x86_64" or "x86-64" or "amd64" or "x64" => TargetArch.X86_64,
        "aarch64" or "arm64" => TargetArch.Aarch64,
        _ => throw new RunOptionsException($"unknown architecture '{name}' (expected x86_64 or aarch64)"),
    };

    /// <summary>The QEMU system emulator for the architecture, looked up on PATH.</summary>
    public static string QemuBinary(this TargetArch arch) => "qemu-system-" + arch.Name();
}
