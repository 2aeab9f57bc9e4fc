using System.Diagnostics;
using System.Text.RegularExpressions;
using GuestOS.Runner;
using GuestOS.Runner.Cli;
using GuestOS.Tools.Tests.Support;

namespace GuestOS.Tools.Tests.Runner;

/// <summary>guestos-run as the Makefile sees it: arguments in, text and exit status out.</summary>
public sealed partial class CliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static async Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await RunnerCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [GeneratedRegex(@"^\[ *\d+\.\d{6}\] hello$", RegexOptions.Multiline)]
    private static partial Regex TimestampedHello();

    [Fact]
    public async Task A_passing_kernel_exits_0_after_echoing_timestamped_lines_and_a_summary()
    {
        var kernel = TinyKernel.Exiting(KernelExitCode.Pass, "hello\n" + TinyKernel.PassVerdict).Build(_temp);

        var (exit, stdout, _) = await Run("--kernel", kernel, "--machine", "microvm", "--timeout", "20");

        Assert.Equal(0, exit);
        Assert.Matches(TimestampedHello(), stdout);
        Assert.Matches(@"runner: PASS in \d+\.\d\d s\s*$", stdout);
    }

    [Fact]
    public async Task A_faulting_kernel_exits_1_and_quiet_still_shows_the_last_lines()
    {
        var kernel = TinyKernel.Exiting(KernelExitCode.Fault, "vector 14\nGUESTOS-VERDICT: FAIL fault\n").Build(_temp);

        var (exit, stdout, _) = await Run(kernel, "--quiet", "--machine=microvm");

        Assert.Equal(1, exit);
        Assert.Contains("runner: FAIL (FAULT, status 39) in ", stdout);
        Assert.Matches(@"\] vector 14", stdout);
        Assert.Single(Regex.Matches(stdout, "vector 14")); // quiet: not echoed, only in the tail
    }

    [Fact]
    public async Task A_hanging_kernel_exits_2()
    {
        var kernel = TinyKernel.Printing("stuck\n", KernelEnding.Hang).Build(_temp);

        var (exit, stdout, _) = await Run("--kernel", kernel, "--machine", "microvm", "--timeout", "1", "--quiet");

        Assert.Equal(2, exit);
        Assert.Contains("TIMEOUT", stdout);
        Assert.Contains("stuck", stdout);
    }

    [Fact]
    public async Task Dry_run_prints_the_pasteable_command_line_with_every_option_applied()
    {
        var (exit, stdout, _) = await Run("--arch", "aarch64", "--gic", "3", "--cpu", "cortex-a72", "--kernel", "k.elf",
            "--append", "a b", "--memory", "512M", "--device", "virtio-rng-pci", "--trace", "virtio_*",
            "--qemu-extra", "-object 'rng-random,id=r,filename=/dev/urandom'", "--dry-run");

        Assert.Equal(0, exit);
        var argv = ShellWords.Split(stdout);
        Assert.Equal("qemu-system-aarch64", argv[0]);
        Assert.Contains("virt,gic-version=3", argv);
        Assert.Contains("cortex-a72", argv);
        Assert.Contains("a b", argv);
        Assert.Contains("512M", argv);
        Assert.Contains("virtio-rng-pci", argv);
        Assert.Contains("virtio_*", argv);
        Assert.Equal(["-object", "rng-random,id=r,filename=/dev/urandom"], argv.TakeLast(2));
    }

    [Fact]
    public async Task Empty_values_mean_the_default_so_make_can_pass_unset_variables()
    {
        var (exit, stdout, _) = await Run("--kernel", "k.elf", "--arch", "", "--machine", "", "--cpu", "", "--gic", "", "--qemu-extra", "", "--dry-run");

        Assert.Equal(0, exit);
        Assert.Contains("-M q35 ", stdout);
    }

    [Fact]
    public async Task SIGTERM_makes_the_runner_kill_QEMU_and_report_INTERRUPTED()
    {
        // make debug ends the runner this way once gdb quits: a guest still running (gdb detached
        // from it) must not outlive the runner. The kernel path is unique, so it finds our QEMU.
        var kernel = TinyKernel.Printing("spinning\n", KernelEnding.Hang).Build(_temp);
        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "guestos-run.dll"), "--kernel", kernel, "--machine", "microvm", "--timeout", "0" })
        {
            startInfo.ArgumentList.Add(arg);
        }
        using var runner = Process.Start(startInfo)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var qemu = -1;
        try
        {
            // Until the guest runs, as its console line coming through the runner shows.
            var stdout = new List<string>();
            while (!stdout.Any(l => l.EndsWith("] spinning", StringComparison.Ordinal)))
            {
                stdout.Add(await runner.StandardOutput.ReadLineAsync(deadline.Token)
                    ?? throw new InvalidOperationException($"the runner ended early:\n{string.Join('\n', stdout)}"));
            }
            qemu = Assert.Single(ProcessesMentioning(kernel), pid => pid != runner.Id);

            using (var kill = Process.Start("kill", ["-TERM", runner.Id.ToString()]))
            {
                await kill.WaitForExitAsync(deadline.Token);
            }
            stdout.AddRange((await runner.StandardOutput.ReadToEndAsync(deadline.Token)).Split('\n'));
            await runner.WaitForExitAsync(deadline.Token);

            Assert.Contains("runner: INTERRUPTED (QEMU killed)", stdout);
            Assert.Equal(1, runner.ExitCode);
            Assert.Empty(ProcessesMentioning(kernel)); // QEMU and the runner, both gone
        }
        finally
        {
            runner.Kill(entireProcessTree: true);
            if (qemu > 0 && ProcessesMentioning(kernel).Contains(qemu))
            {
                Process.GetProcessById(qemu).Kill(); // orphaned by a runner that died without killing it
            }
        }
    }

    /// <summary>Live processes whose command line contains <paramref name="text"/> (a zombie's is empty).</summary>
    private static List<int> ProcessesMentioning(string text) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : -1)
            .Where(pid => pid > 0 && ReadCommandLine(pid).Contains(text, StringComparison.Ordinal))
            .ToList();

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ""; // it exited meanwhile, or is not ours to read
        }
    }

    [Theory]
    [InlineData("--kernel", "k.elf", "--bogus")]
    [InlineData("--machine", "q35")]
    [InlineData("--kernel", "k.elf", "--machine", "virt")]
    [InlineData("--kernel", "k.elf", "--arch", "riscv64")]
    [InlineData("--kernel", "k.elf", "--timeout", "soon")]
    [InlineData("--kernel", "k.elf", "--qemu-extra", "'unterminated")]
    [InlineData("--kernel", "k.elf", "--timeout")]
    [InlineData("--kernel", "does-not-exist.elf")]
    public async Task Usage_errors_exit_3_with_a_message(params string[] args)
    {
        var (exit, _, stderr) = await Run(args);

        Assert.Equal(3, exit);
        Assert.StartsWith("guestos-run: ", stderr);
    }
}
