using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// A short job: each operation boots QEMU, so a few dozen samples are plenty and keep
// `make bench` to minutes on two cores.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15).WithInvocationCount(1).WithUnrollFactor(1))
    .WithArtifactsPath(Path.Combine("build", "bench"))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(GuestOS.Bench.BootToFirstByte).Assembly).Run(args, config);
