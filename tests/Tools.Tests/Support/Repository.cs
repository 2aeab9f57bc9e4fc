using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Support;

/// <summary>The repository the tests run from, and what `make` built in it.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>build/&lt;arch&gt;/kernel.elf; a missing kernel fails the test with how to build it.</summary>
    public static string Kernel(TargetArch arch)
    {
        var path = Path.Combine(Root, "build", arch.Name(), "kernel.elf");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: `make kernels` builds it");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GuestOS.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("GuestOS.sln not found above " + AppContext.BaseDirectory);
    }
}
