using System.Runtime.InteropServices;
using GuestOS.Runner.Cli;

// Ctrl-C, or SIGTERM (make debug's `kill` once gdb has quit): stop waiting and kill QEMU (the
// runner reports INTERRUPTED) instead of dying at once and leaving QEMU running.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};
using var terminated = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});
return await RunnerCli.RunAsync(args, Console.Out, Console.Error, interrupted.Token);
