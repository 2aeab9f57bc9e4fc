using GuestOS.Runner;

namespace GuestOS.Compare.Tests;

// The artifacts the tests boot (all built by `make test`), and one traced boot of each guest.
public static class Runs
{
    public static string Root { get; } = FindRoot();

    public static string GuestOsKernel(TargetArch arch) =>
        Existing(Path.Combine(Root, "build", arch.Name(), "kernel.elf"), "make kernels");

    public static LinuxGuest Linux(TargetArch arch) => new(Path.Combine(Root, "build", "linux", arch.Name()), arch);

    public static string Backend => Existing(Environment.GetEnvironmentVariable("VHOST_USER_RNG")
                                             ?? Path.Combine(Root, "build", "vhost-user-rng", "vhost-user-rng"), "make test");

    private static string TraceFile(string name) =>
        Path.Combine(Path.GetTempPath(), $"guestos-compare-{name}-{Guid.NewGuid():N}.trace");

    public static Task<GuestTrace> LinuxAsync(TargetArch arch, RngKind rng = RngKind.Builtin) =>
        TracedRun.RunAsync("Linux 6.1", Linux(arch).Options(4096), rng, TraceFile("linux"), Backend);

    public static Task<GuestTrace> GuestOsAsync(TargetArch arch, RngKind rng = RngKind.Builtin, int bytes = 4096, string append = "") =>
        TracedRun.RunAsync("GuestOS", new RunOptions
        {
            KernelPath = GuestOsKernel(arch),
            Arch = arch,
            Append = $"rng.bytes={bytes} {append}".Trim(),
            Timeout = TimeSpan.FromSeconds(120),
        }, rng, TraceFile("guestos"), Backend);

    private static string Existing(string path, string how) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: `{how}` builds it");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GuestOS.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("GuestOS.sln not found above " + AppContext.BaseDirectory);
    }
}
