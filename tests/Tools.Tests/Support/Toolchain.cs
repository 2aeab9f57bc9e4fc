using System.Diagnostics;

namespace GuestOS.Tools.Tests.Support;

/// <summary>
/// clang and ld.lld, run at test time: the test kernels and ELF files are built from source by
/// each run, so the tests exercise real toolchain output rather than checked-in binaries.
/// A missing tool fails the test with the install hint; it never skips it.
/// </summary>
public static class Toolchain
{
    public const string X86Target = "x86_64-unknown-none";
    public const string Aarch64Target = "aarch64-unknown-none";

    public static void Assemble(string target, string source, string objectFile, string includeDirectory, IEnumerable<string> defines) =>
        Run("clang", [$"--target={target}", "-c", source, "-o", objectFile, "-I", includeDirectory, .. defines.Select(d => $"-D{d}")]);

    public static void Link(string objectFile, string elf, params string[] extra) =>
        Run("ld.lld", [.. extra, "-o", elf, objectFile]);

    private static void Run(string tool, IReadOnlyList<string> args)
    {
        var startInfo = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(startInfo)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} not found ({e.Message}); the tools tests need clang and lld: apt-get install clang lld", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{tool} {string.Join(' ', args)} failed with {process.ExitCode}:\n{stdout.Result}{stderr.Result}");
            }
        }
    }
}
