using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Each benchmark class sets its own short Monitoring job: every operation boots QEMU, so a
// few samples are plenty and keep `make bench` to minutes on two cores.
var config = DefaultConfig.Instance
    .WithArtifactsPath(Path.Combine("build", "bench"))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(GuestOS.Bench.BootToFirstByte).Assembly).Run(args, config);
