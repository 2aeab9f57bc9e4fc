using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// `guest-rng [runs]`: the entropy devices against ceilings and Linux 6.1, one table per architecture (GuestRngBench). Anything else goes
// to BenchmarkDotNet. Each benchmark class sets its own short Monitoring job: every operation
// boots QEMU, so a few samples are plenty and keep `make bench` to minutes on two cores.
if (args.Length > 0 && args[0] == "guest-rng") return GuestOS.Bench.GuestRngBench.Run(args);
// `guest-boot [runs]`: kernel entry to DRIVER_OK phase by phase, both architectures (GuestBootBench).
if (args.Length > 0 && args[0] == "guest-boot") return GuestOS.Bench.GuestBootBench.Run(args);
// `many-guests [--minutes M]`: one backend, three guests, then one of them hostile (ManyGuestsBench).
if (args.Length > 0 && args[0] == "many-guests") return GuestOS.Bench.ManyGuestsBench.Run(args);

var config = DefaultConfig.Instance
    .WithArtifactsPath(Path.Combine("build", "bench"))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(GuestOS.Bench.BootToFirstByte).Assembly).Run(args, config);
return 0;
