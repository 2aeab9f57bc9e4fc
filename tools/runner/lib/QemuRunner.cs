using System.ComponentModel;
using System.Diagnostics;

namespace GuestOS.Runner;

/// <summary>
/// Boots a kernel under QEMU and watches it: streams the console, enforces the timeout, and
/// decides pass or fail from the exit status and the verdict line together.
/// </summary>
public static class QemuRunner
{
    /// <summary>QEMU stderr can be a firehose with -trace: keep only this many lines of it.</summary>
    private const int StderrLinesKept = 5000;

    /// <summary>After QEMU exits, how long to wait for its pipes to drain before giving up on them.</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(5);

    /// <summary>Boots <paramref name="options"/> with the command line they describe.</summary>
    public static Task<RunResult> RunAsync(RunOptions options, CancellationToken cancellationToken = default) =>
        RunAsync(options, QemuCommandLine.Build(options), cancellationToken);

    /// <summary>
    /// Boots with an explicit argv (typically <see cref="QemuCommandLine.Build"/> plus extra
    /// arguments); <paramref name="options"/> still supplies the timeout, the tail length and
    /// the line callbacks. Cancelling kills QEMU and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<RunResult> RunAsync(RunOptions options, IReadOnlyList<string> argv, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(options.KernelPath))
        {
            throw new RunOptionsException($"kernel not found: {options.KernelPath}");
        }

        var clock = new Stopwatch();
        using var qemu = Start(argv, clock);
        var console = new ConsoleCapture(qemu.StandardOutput.BaseStream, clock, options.OnConsoleLine);
        var stderr = new ConsoleCapture(qemu.StandardError.BaseStream, clock, options.OnQemuStderrLine, StderrLinesKept);
        var pumps = Task.WhenAll(console.PumpAsync(), stderr.PumpAsync());

        var timedOut = false;
        TimeSpan duration;
        try
        {
            using var deadline = new CancellationTokenSource(options.EffectiveTimeout ?? Timeout.InfiniteTimeSpan);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
            try
            {
                await qemu.WaitForExitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = deadline.IsCancellationRequested;
            }
            duration = clock.Elapsed;
        }
        finally
        {
            // Reached on timeout, on cancellation and on any exception (a throwing line
            // callback, say): QEMU must never outlive the run.
            Kill(qemu);
        }

        // The pipes close when QEMU is gone; the grace only matters if something QEMU spawned
        // still holds them open.
        await Task.WhenAny(pumps, Task.Delay(DrainGrace)).ConfigureAwait(false);
        if (pumps.IsFaulted)
        {
            await pumps.ConfigureAwait(false); // rethrows the callback's exception
        }
        cancellationToken.ThrowIfCancellationRequested();

        var lines = console.Lines;
        var verdict = Verdict.FromLines(lines);
        var status = timedOut ? null : new ExitStatus(qemu.ExitCode);
        return new RunResult
        {
            Outcome = status is null ? RunOutcome.Timeout : RunOutcomes.From(status, verdict),
            Status = status,
            Verdict = verdict,
            Lines = lines,
            QemuStderr = stderr.Lines,
            FirstByteAt = console.FirstByteAt,
            Duration = duration,
            Timeout = options.EffectiveTimeout,
            CommandLine = argv,
            TailLines = options.TailLines,
        };
    }

    /// <summary>Synchronous convenience for callers that are not async.</summary>
    public static RunResult Run(RunOptions options) => RunAsync(options).GetAwaiter().GetResult();

    private static Process Start(IReadOnlyList<string> argv, Stopwatch clock)
    {
        var startInfo = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // A pipe, not the terminal: with -serial stdio QEMU would otherwise switch the
            // terminal to raw mode, and keystrokes would go to the guest.
            RedirectStandardInput = true,
        };
        foreach (var argument in argv.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }
        clock.Start(); // "QEMU start" for every timestamp: the moment we launch the process
        try
        {
            return Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {argv[0]}");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {argv[0]}: {e.Message} (is QEMU installed?)", e);
        }
    }

    /// <summary>
    /// Kills QEMU together with anything it spawned. QEMU deliberately stays in our process
    /// group (so a Ctrl-C in the terminal reaches it as well); the tree kill reaches the same
    /// set of processes without needing a group of its own.
    /// </summary>
    private static void Kill(Process qemu)
    {
        try
        {
            if (!qemu.HasExited)
            {
                qemu.Kill(entireProcessTree: true);
            }
            qemu.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill: nothing left to do.
        }
    }
}
