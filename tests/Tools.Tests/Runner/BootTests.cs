using GuestOS.Runner;
using GuestOS.Tools.Tests.Support;
using Xunit.Abstractions;

namespace GuestOS.Tools.Tests.Runner;

/// <summary>
/// The runner against real QEMU boots of tiny kernels: every outcome the runner can report is
/// produced by a kernel that really ends that way, so no verdict here can be reached vacuously.
/// </summary>
public sealed class BootTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<RunResult> Boot(TinyKernel kernel, Func<RunOptions, RunOptions>? adjust = null)
    {
        var options = new RunOptions
        {
            KernelPath = kernel.Build(_temp),
            Arch = kernel.Arch,
            Timeout = TimeSpan.FromSeconds(20),
        };
        var result = await QemuRunner.RunAsync(adjust is null ? options : adjust(options));
        output.WriteLine(ShellWords.Join(result.CommandLine));
        foreach (var line in result.Lines)
        {
            output.WriteLine(line.ToString());
        }
        output.WriteLine(result.Report());
        return result;
    }

    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    [InlineData("microvm")]
    public async Task A_kernel_that_exits_PASS_and_says_PASS_passes_on_every_x86_machine(string machine)
    {
        var result = await Boot(TinyKernel.Exiting(KernelExitCode.Pass, "hello\n" + TinyKernel.PassVerdict),
            o => o with { Machine = machine });

        Assert.Equal(RunOutcome.Pass, result.Outcome);
        Assert.True(result.Passed);
        Assert.Equal(KernelExitCode.Pass, result.ExitCode);
        Assert.Equal(33, result.Status!.Status);
        Assert.Equal(["hello", "GUESTOS-VERDICT: PASS"], result.Lines.Select(l => l.Text));
        Assert.StartsWith("runner: PASS in ", result.Summary());
    }

    [Theory]
    [InlineData(2, "cortex-a57")]
    [InlineData(3, "max")]
    public async Task A_kernel_that_exits_PASS_through_semihosting_passes_on_aarch64(int gic, string cpu)
    {
        var result = await Boot(TinyKernel.Exiting(KernelExitCode.Pass, "hello arm\n" + TinyKernel.PassVerdict, TargetArch.Aarch64),
            o => o with { GicVersion = gic, Cpu = cpu });

        Assert.Equal(RunOutcome.Pass, result.Outcome);
        Assert.Equal(33, result.Status!.Status);
        Assert.True(result.Printed("hello arm"));
    }

    [Theory]
    [InlineData(TargetArch.X86_64)]
    [InlineData(TargetArch.Aarch64)]
    public async Task A_kernel_that_exits_FAULT_is_reported_as_FAULT_with_its_console(TargetArch arch)
    {
        var result = await Boot(TinyKernel.Exiting(KernelExitCode.Fault,
            "unexpected exception: vector 14 (page fault)\nGUESTOS-VERDICT: FAIL page fault\n", arch));

        Assert.Equal(RunOutcome.Fault, result.Outcome);
        Assert.False(result.Passed);
        Assert.Equal(KernelExitCode.Fault, result.ExitCode);
        Assert.Equal(39, result.Status!.Status);
        Assert.True(result.Printed("vector 14"));
        Assert.Equal(new Verdict(VerdictKind.Fail, "page fault"), result.Verdict);
        Assert.StartsWith("runner: FAIL (FAULT, status 39) in ", result.Summary());
    }

    [Fact]
    public async Task A_kernel_that_hangs_is_killed_at_the_timeout_and_its_last_lines_are_reported()
    {
        // 30 lines, the last one unterminated: the tail must be the last 20, partial line included.
        var text = string.Concat(Enumerable.Range(1, 29).Select(i => $"line {i}\n")) + "line 30 (no newline)";
        var timeout = TimeSpan.FromSeconds(3);

        var result = await Boot(TinyKernel.Printing(text, KernelEnding.Hang), o => o with { Timeout = timeout });

        Assert.Equal(RunOutcome.Timeout, result.Outcome);
        Assert.Null(result.Status);
        // .NET timers may fire a millisecond or so early: allow that, but not a run that ended on its own.
        Assert.InRange(result.Duration, timeout - TimeSpan.FromMilliseconds(100), timeout + TimeSpan.FromSeconds(5));
        var tail = result.Tail();
        Assert.Equal(20, tail.Count);
        Assert.Equal("line 11", tail[0].Text);
        Assert.Equal("line 30 (no newline)", tail[^1].Text);
        Assert.Contains("line 30 (no newline)", result.Report());
        Assert.StartsWith("runner: FAIL (TIMEOUT after 3.00 s)", result.Summary());
    }

    [Fact]
    public async Task A_triple_fault_ends_QEMU_with_status_0_which_is_a_failure()
    {
        var result = await Boot(TinyKernel.Printing("about to triple fault\n" + TinyKernel.PassVerdict, KernelEnding.TripleFault));

        Assert.Equal(0, result.Status!.Status);
        Assert.Equal(RunOutcome.NoStatus, result.Outcome);
        Assert.False(result.Passed);
        Assert.Null(result.ExitCode);
        // The verdict line said PASS; the status overrules it.
        Assert.True(result.Verdict.IsPass);
    }

    [Theory]
    [InlineData(KernelExitCode.Pass, "GUESTOS-VERDICT: FAIL 3 tests failed\n", RunOutcome.VerdictMismatch)]
    [InlineData(KernelExitCode.Pass, "all done, but no verdict line\n", RunOutcome.VerdictMismatch)]
    [InlineData(KernelExitCode.Pass, "GUESTOS-VERDICT: PASSED\n", RunOutcome.VerdictMismatch)]
    [InlineData(KernelExitCode.Fail, "GUESTOS-VERDICT: PASS\n", RunOutcome.Fail)]
    public async Task Exit_status_and_verdict_line_must_both_say_PASS(KernelExitCode code, string console, RunOutcome expected)
    {
        var result = await Boot(TinyKernel.Exiting(code, console));

        Assert.Equal(expected, result.Outcome);
        Assert.False(result.Passed);
        Assert.Equal(code, result.ExitCode);
    }

    [Fact]
    public async Task Lines_are_stamped_in_arrival_order_from_the_first_byte_after_QEMU_start()
    {
        // The kernel spins between lines, so they usually reach the host in separate reads. But
        // a stamp is taken per read (bytes in one pipe read arrived together as far as the host
        // can tell), and a loaded host can read several lines at once: those share a stamp. So
        // the order is checked line by line as non-decreasing, never as strictly increasing.
        var p = TinyKernel.Pause;
        var result = await Boot(TinyKernel.Exiting(KernelExitCode.Pass, $"one\n{p}two\n{p}three\n{TinyKernel.PassVerdict}"));

        Assert.True(result.Passed);
        Assert.Equal(4, result.Lines.Count);
        var firstByte = Assert.NotNull(result.FirstByteAt);
        Assert.True(firstByte > TimeSpan.Zero);
        Assert.Equal(firstByte, result.Lines[0].At);
        for (var i = 1; i < result.Lines.Count; i++)
        {
            Assert.True(result.Lines[i].At >= result.Lines[i - 1].At,
                $"line {i} '{result.Lines[i].Text}' is stamped {result.Lines[i].At}, before line {i - 1} '{result.Lines[i - 1].Text}' at {result.Lines[i - 1].At}");
        }
        // Not asserted: Duration >= the last stamp. QEMU's exit can be seen before its last
        // output is read, so the last line may be stamped after the exit.
    }

    [Fact]
    public async Task CRLF_line_ends_and_binary_garbage_are_tolerated()
    {
        byte[] garbage = [0x00, 0x1B, 0xFF, 0xFE, (byte)'x', 0x07];
        var console = new List<byte>();
        console.AddRange("crlf line\r\n"u8.ToArray());
        console.AddRange(garbage);
        console.AddRange("\r\nGUESTOS-VERDICT: PASS\r\n"u8.ToArray());
        var kernel = new TinyKernel(TargetArch.X86_64, console.ToArray(), KernelEnding.Exit);

        var result = await Boot(kernel);

        Assert.Equal(RunOutcome.Pass, result.Outcome);
        Assert.Equal("crlf line", result.Lines[0].Text);
        Assert.Equal("\\x00\\x1b\uFFFD\uFFFDx\\x07", result.Lines[1].Text);
    }

    [Fact]
    public async Task Console_lines_are_streamed_to_the_callback_as_they_arrive()
    {
        var streamed = new List<ConsoleLine>();
        var result = await Boot(TinyKernel.Exiting(KernelExitCode.Pass, "a\nb\n" + TinyKernel.PassVerdict),
            o => o with { OnConsoleLine = streamed.Add });

        Assert.Equal(result.Lines, streamed);
    }

    [Fact]
    public async Task A_QEMU_that_refuses_its_arguments_is_a_failure_with_its_stderr_kept()
    {
        var result = await Boot(TinyKernel.Exiting(KernelExitCode.Pass, TinyKernel.PassVerdict),
            o => o with { Devices = ["no-such-device"] });

        Assert.Equal(RunOutcome.QemuError, result.Outcome);
        Assert.Equal(1, result.Status!.Status);
        Assert.Contains(result.QemuStderr, l => l.Text.Contains("no-such-device"));
        Assert.Contains("no-such-device", result.Report());
    }

    [Fact]
    public async Task Cancelling_a_run_stops_it_promptly_and_throws()
    {
        var kernel = TinyKernel.Printing("spinning\n", KernelEnding.Hang).Build(_temp);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var started = DateTime.UtcNow;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            QemuRunner.RunAsync(new RunOptions { KernelPath = kernel, Timeout = TimeSpan.FromSeconds(30) }, cancel.Token));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Extra_arguments_from_the_argv_helper_reach_QEMU()
    {
        // What later code will do for virtio-rng: take the argv, add an -object, run it.
        var options = new RunOptions
        {
            KernelPath = TinyKernel.Exiting(KernelExitCode.Pass, TinyKernel.PassVerdict).Build(_temp),
            Machine = "microvm,pcie=on",
            SharedMemory = true,
            Devices = ["virtio-rng-pci,rng=guestos-rng"],
        };
        var argv = QemuCommandLine.Build(options).Concat(["-object", "rng-random,id=guestos-rng,filename=/dev/urandom"]).ToList();

        var result = await QemuRunner.RunAsync(options, argv);

        Assert.True(result.Passed, result.Report());
        Assert.Equal(argv, result.CommandLine);
    }
}
