using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Our own benchmarks, each a table and a JSON file under build/bench:
//   `guest-rng [runs]`: the entropy devices against ceilings and Linux 6.1, one table per architecture (GuestRngBench);
//   `guest-boot [runs]`: kernel entry to DRIVER_OK phase by phase, both architectures (GuestBootBench);
//   `many-guests [--minutes M]`: one backend, three guests, then one of them hostile (ManyGuestsBench).
// Anything else goes to BenchmarkDotNet. Each benchmark class sets its own short Monitoring job:
// every operation boots QEMU, so a few samples are plenty and keep `make bench` to minutes on two cores.
Func<string[], int>? own = args.Length == 0 ? null : args[0] switch
{
    "guest-rng" => GuestOS.Bench.GuestRngBench.Run,
    "guest-boot" => GuestOS.Bench.GuestBootBench.Run,
    "many-guests" => GuestOS.Bench.ManyGuestsBench.Run,
    _ => null,
};
if (own is not null)
{
    try { return own(args); }
    catch (Exception e) when (e is FileNotFoundException or FormatException or InvalidOperationException)
    {
        Console.Error.WriteLine($"bench {args[0]}: {e.Message}");   // a missing image, a guest that failed: the message, not a stack
        return 2;
    }
}

var config = DefaultConfig.Instance
    .WithArtifactsPath(Path.Combine("build", "bench"))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(GuestOS.Bench.BootToFirstByte).Assembly).Run(args, config);
return 0;
