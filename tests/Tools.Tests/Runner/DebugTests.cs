using System.Text.RegularExpressions;
using GuestOS.Runner;
using GuestOS.Tools.Tests.Support;
using Xunit.Abstractions;

namespace GuestOS.Tools.Tests.Runner;

/// <summary>
/// What `make debug` promises, on the real kernel: the runner's --gdb QEMU starts halted, gdb
/// (the same tools/runner/debug.gdb session, in batch mode) attaches, runs to a C# method and
/// shows its C# source file, line and text, and a backtrace through the C# caller. Neither
/// QEMU nor gdb outlives the test: gdb is killed at its deadline, QEMU by the run's cancellation.
/// </summary>
public sealed partial class DebugTests(ITestOutputHelper output) : IDisposable
{
    private const string Method = "kernel_GuestOS_Kernel_KernelMain__Run";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(TargetArch.X86_64)]
    [InlineData(TargetArch.Aarch64)]
    public async Task Gdb_stops_in_a_CSharp_method_and_shows_its_source_line_and_backtrace(TargetArch arch)
    {
        var kernel = Repository.Kernel(arch);
        var text = await DebugSession(arch, kernel, [$"guestos-attach {{0}} {Method}", "bt", "kill"]);

        // "Breakpoint 1, kernel_..._Run (boot=...) at /repo/kernel/KernelMain.cs:47", then "47\t<the source line>".
        var stop = StopLine().Match(text);
        Assert.True(stop.Success, $"no stop in {Method}:\n{text}");
        var file = stop.Groups["file"].Value;
        var line = int.Parse(stop.Groups["line"].Value);
        Assert.Equal(Path.Combine(Repository.Root, "kernel", "KernelMain.cs"), file);
        var shown = Regex.Match(text, $@"^{line}\t(?<source>.*)$", RegexOptions.Multiline);
        Assert.True(shown.Success, $"gdb did not show line {line} of {file}:\n{text}");
        Assert.Equal(File.ReadLines(file).ElementAt(line - 1).Trim(), shown.Groups["source"].Value.Trim());

        // The backtrace: this method, called from the C# entry point of this architecture.
        Assert.Matches(new Regex($@"^#0  {Method} \(.*\) at {Regex.Escape(file)}:{line}$", RegexOptions.Multiline), text);
        var entry = Path.Combine(Repository.Root, "kernel", "arch", arch.Name(), "Entry.cs");
        Assert.Matches(new Regex($@"^#1  0x[0-9a-f]+ in kernel_GuestOS_Kernel_Arch_Entry__KernelEntry \(.*\) at {Regex.Escape(entry)}:\d+$", RegexOptions.Multiline), text);
    }

    /// <summary>
    /// Boots the kernel halted with the gdb stub on a private socket (the runner's --gdb), runs
    /// gdb with <paramref name="commands"/> ("{0}" is the socket), and returns gdb's output.
    /// </summary>
    private async Task<string> DebugSession(TargetArch arch, string kernel, IReadOnlyList<string> commands)
    {
        var socket = _temp.File("gdb.sock");
        using var stop = new CancellationTokenSource(Deadline);
        var options = new RunOptions
        {
            KernelPath = kernel,
            Arch = arch,
            Gdb = true,
            GdbSocket = socket,
            OnConsoleLine = line => output.WriteLine($"guest: {line}"),
            OnQemuStderrLine = line => output.WriteLine($"qemu: {line.Text}"),
        };
        var qemu = QemuRunner.RunAsync(options, stop.Token);
        try
        {
            // QEMU creates the socket as it starts; until then there is nothing to attach to.
            while (!File.Exists(socket))
            {
                if (qemu.IsCompleted)
                {
                    Assert.Fail($"QEMU ended before its gdb stub listened:\n{(await qemu).Report()}");
                }
                stop.Token.ThrowIfCancellationRequested();
                await Task.Delay(20, stop.Token);
            }
            var text = await GdbBatch.RunAsync(kernel, commands.Select(c => string.Format(c, socket)), Deadline);
            output.WriteLine(text);
            return text;
        }
        finally
        {
            // The "kill" command ends QEMU; if the session failed before it, the cancellation does.
            await stop.CancelAsync();
            try
            {
                await qemu;
            }
            catch (OperationCanceledException)
            {
                // QEMU was killed, as intended.
            }
        }
    }

    [GeneratedRegex(@"^Breakpoint 1, " + Method + @" \(.*\) at (?<file>\S+):(?<line>\d+)$", RegexOptions.Multiline)]
    private static partial Regex StopLine();
}
