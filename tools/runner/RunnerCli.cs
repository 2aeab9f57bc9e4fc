using GuestOS.Runner;

namespace GuestOS.Runner.Cli;

/// <summary>guestos-run: parse, boot, echo, summarise, and map the outcome to an exit code.</summary>
public static class RunnerCli
{
    public const int ExitPass = 0;
    public const int ExitFail = 1;
    public const int ExitTimeout = 2;
    public const int ExitUsage = 3;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        CliCommand command;
        try
        {
            command = CliArguments.Parse(args);
        }
        catch (RunOptionsException e)
        {
            await stderr.WriteLineAsync($"guestos-run: {e.Message}\n{CliArguments.Usage}");
            return ExitUsage;
        }
        if (command.Help)
        {
            await stdout.WriteLineAsync(CliArguments.Usage);
            return ExitPass;
        }

        await using var backend = command.VhostUserRngBackend is { } binary && !command.DryRun
            ? await VhostUserRngBackend.StartAsync(binary)
            : null;
        if (backend != null)
        {
            command = command with { Options = command.Options with { QemuExtra = [.. command.Options.QemuExtra, .. backend.QemuArgumentsFor(0, command.VhostUserMmio)] } };
        }
        var argv = QemuCommandLine.Build(command.Options);
        if (command.DryRun)
        {
            await stdout.WriteLineAsync(ShellWords.Join(argv));
            return ExitPass;
        }

        var options = command.Options with
        {
            OnConsoleLine = command.Quiet ? null : line => stdout.WriteLine(line.ToString()),
            OnQemuStderrLine = command.Quiet ? null : line => stderr.WriteLine($"{ConsoleLine.FormatTimestamp(line.At)} qemu: {line.Text}"),
        };
        if (options.Gdb)
        {
            await stderr.WriteLineAsync("runner: QEMU is halted, waiting for gdb: target remote :1234 (no timeout)");
        }

        RunResult result;
        try
        {
            result = await QemuRunner.RunAsync(options, argv, cancellationToken);
        }
        catch (RunOptionsException e)
        {
            await stderr.WriteLineAsync($"guestos-run: {e.Message}");
            return ExitUsage;
        }
        catch (OperationCanceledException)
        {
            await stdout.WriteLineAsync("runner: INTERRUPTED (QEMU killed)");
            return ExitFail;
        }
        catch (InvalidOperationException e)
        {
            await stdout.WriteLineAsync($"runner: FAIL ({e.Message})");
            return ExitFail;
        }

        if (backend != null && !command.Quiet)
        {
            await backend.DisposeAsync();   // stop it first, so its last lines are in the log
            foreach (var line in backend.Log) await stdout.WriteLineAsync($"backend: {line}");
        }
        await stdout.WriteLineAsync(result.Report());
        return result.Outcome switch
        {
            RunOutcome.Pass => ExitPass,
            RunOutcome.Timeout => ExitTimeout,
            _ => ExitFail,
        };
    }
}
