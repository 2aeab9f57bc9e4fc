using System.Text.RegularExpressions;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The host checks the bytes, not the guest's word for them: our backend reads a stream the
// test regenerates (SeededEntropyFifo) and the guest's digest of what it read must be the
// digest of that stream's prefix. The guest's own checks (buffer accounting, the ring refusing
// a used id that is not outstanding) are not what decides these tests.
public partial class EntropyDeliveryTests
{
    [Theory]
    [InlineData(TargetArch.X86_64, "q35", 2)]
    [InlineData(TargetArch.Aarch64, "virt", 2)]
    [InlineData(TargetArch.Aarch64, "virt", 3)]
    public async Task Every_byte_fed_to_the_backend_reaches_the_reader_once_in_order(TargetArch arch, string machine, int gic)
    {
        using var entropy = new SeededEntropyFifo(seed: 1);
        var run = await RunThroughBackend(entropy, arch, machine, gic, "rng.bytes=1M quiet");
        entropy.AssertDelivered(run, 0, 1 << 20);
    }

    // 60 s of continuous reading with the default queue-full shape, every byte checked by the
    // host at the end.
    [Fact]
    public async Task Sixty_second_soak_loses_duplicates_and_reorders_nothing()
    {
        using var entropy = new SeededEntropyFifo(seed: 60);
        // 16 KiB buffers (not the default 1 MiB ones): many completions, the ring indexes wrapping often.
        var run = await RunThroughBackend(entropy, TargetArch.X86_64, "q35", 2, "rng.seconds=60 rng.bufsize=16K quiet");
        var m = SoakLine().Match(run.Lines.Single(l => l.Text.StartsWith("soak: read")).Text);
        Assert.True(m.Success, run.Report());
        long read = long.Parse(m.Groups[1].Value), completions = long.Parse(m.Groups[2].Value);
        entropy.AssertDelivered(run, 0, read);
        Assert.True(completions > 10000, run.Report());
    }

    internal static async Task<RunResult> RunThroughBackend(SeededEntropyFifo entropy, TargetArch arch, string machine, int gic, string append)
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath, entropy.BackendArguments);
        var run = await QemuRunner.RunAsync(Kernels.WithBackend(arch, machine, backend, append, gic));
        await backend.DisposeAsync();
        Assert.True(run.Passed, run.Report() + "\nbackend log:\n" + string.Join('\n', backend.Log));
        return run;
    }

    [GeneratedRegex(@"^soak: read (\d+) bytes in \d+ ms, \d+ requests, (\d+) completions, \d+ in flight, 0 buffers unaccounted for$")]
    private static partial Regex SoakLine();
}
