using System.Text.RegularExpressions;
using GuestOS.Runner;
using Xunit.Abstractions;
using VhostUser.Tests.Frontend;

namespace GuestOS.Kernel.Tests;

// Issue 16, many guests: one backend process (-c 3) serves two GuestOS guests under QEMU while
// the guest on its third socket is hostile (VhostUser.Tests' in-process frontend: a ring it
// breaks twice a round, a storm of resets, a disconnect mid-stream, over and over). The two
// guests must not notice; the hostile one must be served again once it re-initialises properly.
// No throughput here: `make bench` (tools/bench many-guests) measures that.
public partial class ManyGuestsTests(ITestOutputHelper output)
{
    private const int Guests = 2, HostileSocket = 2;

    [Fact]
    public async Task Two_guests_lose_no_buffer_while_a_third_on_the_same_backend_breaks_its_ring_and_storms_resets()
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Kernels.BackendPath, socketCount: 3);
        var runs = Enumerable.Range(0, Guests).Select(i => QemuRunner.RunAsync(
            // soak: fails the guest on a lost or twice-completed buffer
            Kernels.WithBackend(TargetArch.X86_64, "q35", backend, "rng.seconds=10 quiet", socket: i))).ToArray();

        // The storm lasts as long as the guests read (at least one round); then the proper re-init.
        var storm = new HostileStorm(backend.SocketPathOf(HostileSocket));
        var hostile = Task.Run(() =>
        {
            do storm.Round(); while (!runs.All(r => r.IsCompleted));
            return storm.Recover();   // fails unless a buffer is completed
        });
        foreach (var run in await Task.WhenAll(runs))
        {
            Assert.True(run.Passed, run.Report() + "\nbackend log:\n" + string.Join('\n', backend.Log));
            Assert.Contains(run.Lines, l => SoakLine().IsMatch(l.Text));
        }
        var recovery = await hostile.WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"hostile: {storm.Rounds} rounds, {storm.RingsBroken} rings broken, {storm.Resets} resets, " +
                         $"{storm.Disconnects} disconnects; served {recovery.TotalMilliseconds:F1} ms after its proper re-init");
        // The backend saw the hostile ring break and come back, on socket 2 only. Its log comes
        // through a pipe: wait (bounded) for the hostile guest's last connection to be in it.
        string connected = $"rng.sock{HostileSocket}: frontend connected";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (backend.Log.Count(l => l.Contains(connected)) < storm.Rounds + 1 && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(10);
        Assert.Equal(2 * storm.Rounds, backend.Log.Count(l => l.Contains($"rng.sock{HostileSocket}: error: vring 0 broken by the guest")));
        Assert.Contains(backend.Log, l => l.Contains($"rng.sock{HostileSocket}: vring 0: stopped; it was broken"));
        Assert.DoesNotContain(backend.Log, l => l.Contains("broken") && !l.Contains($"rng.sock{HostileSocket}:"));
        Assert.Equal(storm.Rounds + 1, backend.Log.Count(l => l.Contains(connected)));
    }

    [GeneratedRegex(@"^soak: read [1-9]\d* bytes in \d+ ms, \d+ requests, \d+ completions, \d+ in flight, 0 buffers unaccounted for$")]
    private static partial Regex SoakLine();
}
