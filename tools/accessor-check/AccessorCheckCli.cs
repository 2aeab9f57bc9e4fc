using GuestOS.AccessorCheck.Elf;

namespace GuestOS.AccessorCheck;

/// <summary>accessor-check KERNEL.ELF (x86_64 or aarch64): prints one line per accessor; exit 0 pass, 1 fail, 2 usage.</summary>
public static class AccessorCheckCli
{
    public const int ExitPass = 0;
    public const int ExitFail = 1;
    public const int ExitUsage = 2;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count != 1 || args[0].StartsWith('-'))
        {
            stderr.WriteLine("usage: accessor-check KERNEL.ELF   (a linked x86_64 or aarch64 kernel, with its symbol table)");
            return ExitUsage;
        }
        var path = args[0];
        AccessorReport report;
        try
        {
            report = AccessorChecker.Check(path);
        }
        catch (Exception e) when (e is ElfFormatException or DisassemblerException or IOException or UnauthorizedAccessException)
        {
            stdout.WriteLine($"accessor-check: FAIL {path}: {e.Message}");
            return ExitFail;
        }

        foreach (var finding in report.Findings)
        {
            stdout.WriteLine(finding);
        }
        var failed = report.Failures.Count();
        stdout.WriteLine(report.Passed
            ? $"accessor-check: PASS ({report.Findings.Count} accessors in {path}, each as its contract says)"
            : $"accessor-check: FAIL ({failed} of {report.Findings.Count} accessors broken) in {path}");
        return report.Passed ? ExitPass : ExitFail;
    }
}
