namespace GuestOS.Runner;

/// <summary>
/// Which QEMU machines and CPUs the project boots on, per architecture, and the defaults.
/// Anything outside these lists is refused early: they are the configurations the kernel is
/// written and tested for (see shared/notes/qemu-machines.md).
/// </summary>
public static class Machines
{
    public static readonly IReadOnlyList<string> X86 = ["q35", "pc", "microvm"];
    public static readonly IReadOnlyList<string> Aarch64 = ["virt"];
    public static readonly IReadOnlyList<string> Aarch64Cpus = ["cortex-a57", "cortex-a72", "max"];
    public static readonly IReadOnlyList<int> GicVersions = [2, 3];

    public static string DefaultMachine(TargetArch arch) => arch == TargetArch.X86_64 ? "q35" : "virt";

    public const string DefaultAarch64Cpu = "cortex-a57";
    public const int DefaultGicVersion = 2;

    public static IReadOnlyList<string> For(TargetArch arch) => arch == TargetArch.X86_64 ? X86 : Aarch64;

    /// <summary>
    /// Splits "microvm,pcie=on" into the machine name and its extra properties, and checks the
    /// name belongs to the architecture. Properties are QEMU's business and pass through.
    /// </summary>
    public static (string Name, string? Properties) Resolve(TargetArch arch, string? machine)
    {
        var spec = string.IsNullOrWhiteSpace(machine) ? DefaultMachine(arch) : machine.Trim();
        var comma = spec.IndexOf(',');
        var name = comma < 0 ? spec : spec[..comma];
        var properties = comma < 0 ? null : spec[(comma + 1)..];
        if (!For(arch).Contains(name))
        {
            throw new RunOptionsException(
                $"machine '{name}' is not a {arch.Name()} machine here (expected one of: {string.Join(", ", For(arch))})");
        }
        return (name, string.IsNullOrEmpty(properties) ? null : properties);
    }
}
