// Runs every benchmark with a short in-process job, so `make bench` takes a few minutes.
// Arguments are BenchmarkDotNet's (e.g. --filter '*Chain*', --artifacts DIR); without a
// --filter, all benchmarks run.

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace VhostUserRng.Benchmarks;

public static class Program
{
    public static void Main(string[] args)
    {
        var job = Job.ShortRun
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(5);
        var config = DefaultConfig.Instance.AddJob(job.AsDefault()).WithOptions(ConfigOptions.JoinSummary);
        if (System.Array.IndexOf(args, "--filter") < 0) args = [.. args, "--filter", "*"];
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
