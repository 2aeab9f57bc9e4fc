using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The kernels under test and a one-call way to boot them.
public static class Kernels
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Path(TargetArch arch)
    {
        string path = System.IO.Path.Combine(RepositoryRoot, "build", arch.Name(), "kernel.elf");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: build it with `make kernels` (make test does)");
        return path;
    }

    // Our vhost-user backend, as `make test` publishes it (VHOST_USER_RNG names it).
    public static string BackendPath
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("VHOST_USER_RNG")
                          ?? System.IO.Path.Combine(RepositoryRoot, "build", "vhost-user-rng", "vhost-user-rng");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: `make test` publishes it");
            return path;
        }
    }

    // A run whose entropy device is vhost-user-rng-pci (mmio: vhost-user-rng on a virtio-mmio
    // transport) on socket `socket` of our backend (guest RAM shared with it through a memfd).
    public static RunOptions WithBackend(TargetArch arch, string machine, VhostUserRngBackend backend, string append,
                                         int gic = 2, int socket = 0, bool mmio = false) => new()
    {
        KernelPath = Path(arch),
        Arch = arch,
        Machine = machine,
        GicVersion = gic,
        Append = append,
        SharedMemory = true,
        QemuExtra = backend.QemuArgumentsFor(socket, mmio),
        Timeout = TimeSpan.FromSeconds(120),
    };

    public static RunResult Boot(TargetArch arch, string append = "", string? machine = null, string? cpu = null,
                                 int gic = 2, int timeoutSeconds = 60, string? kernelPath = null)
        => QemuRunner.Run(new RunOptions
        {
            KernelPath = kernelPath ?? Path(arch),
            Arch = arch,
            Machine = machine,
            Cpu = cpu,
            GicVersion = gic,
            Append = append,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
        });

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "GuestOS.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("GuestOS.sln not found above " + AppContext.BaseDirectory);
    }
}
