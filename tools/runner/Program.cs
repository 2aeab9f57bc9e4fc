using GuestOS.Runner.Cli;

// Ctrl-C: stop waiting and kill QEMU (the runner reports INTERRUPTED) instead of dying at once.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};
return await RunnerCli.RunAsync(args, Console.Out, Console.Error, interrupted.Token);
