using GuestOS.Runner;

namespace GuestOS.Compare.Spec;

/// <summary>One `make check-guest` run: the guest booted with the device and tracing, decoded, judged.</summary>
public sealed record GuestCheckResult(GuestTrace Run, DeviceTrace Device, IReadOnlyList<RuleVerdict> Verdicts, string TraceFile);

/// <summary>
/// Boots any guest on the command line `make compare` gives Linux (same machine, memory, device,
/// tracing), stops it when it exits, at the time limit, or once its devices are idle after
/// DRIVER_OK, and checks the device's side against <see cref="RuleCatalogue"/>.
/// </summary>
public static class GuestCheck
{
    public static readonly TimeSpan DefaultTimeLimit = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultIdle = TimeSpan.FromSeconds(5);

    /// <summary>Exit status when QEMU did not run the guest at all (bad GUEST arguments).</summary>
    public const int ExitQemuRefused = 2;

    public static Transport TransportOf(RngKind rng) => rng == RngKind.BuiltinMmio ? Transport.Mmio : Transport.PciModern;

    public static async Task<GuestCheckResult> RunAsync(TargetArch arch, RngKind rng, GuestCommandLine guest, string traceFile,
                                                        string? backend = null, TimeSpan? timeLimit = null, TimeSpan? idle = null,
                                                        CancellationToken cancellationToken = default)
    {
        var options = new RunOptions { KernelPath = guest.BootFile, Arch = arch, Timeout = timeLimit ?? DefaultTimeLimit };
        var run = await TracedRun.RunAsync("guest", options, rng, traceFile, backend, cancellationToken, guest, idle ?? DefaultIdle).ConfigureAwait(false);
        var device = DeviceTrace.Decode(run.Events, TransportOf(rng));
        return new GuestCheckResult(run, device, RuleCatalogue.Check(device), traceFile);
    }

    /// <summary>How the run ended, QEMU's own messages (its reaction to a violation, or why it refused), the findings; the exit status.</summary>
    public static int Write(TextWriter output, GuestCheckResult result)
    {
        var run = result.Run.Run;
        output.WriteLine($"check-guest: stopped: {result.Run.StoppedBecause}");
        if (run.Outcome == RunOutcome.QemuError)
        {
            output.WriteLine("check-guest: QEMU did not run the guest; check the GUEST arguments. QEMU said:");
            foreach (var line in run.QemuStderr) output.WriteLine("  " + line.Text);
            output.WriteLine("  command line: " + ShellWords.Join(run.CommandLine));
            return ExitQemuRefused;
        }
        foreach (var line in run.QemuStderr) output.WriteLine("QEMU: " + line.Text);
        return CheckReport.Write(output, result.Device, result.Verdicts, result.TraceFile);
    }
}
