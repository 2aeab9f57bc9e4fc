using GuestOS.Runner;

namespace GuestOS.Compare.Tests;

// Linux's and GuestOS's bring-up as QEMU saw it, checked against the virtio 3.1.1 rules.
public class BringUpTests
{
    private static readonly string[] KnownGoodStatus =
        ["status <- 0x00", "status <- 0x01", "status <- 0x03", "status <- 0x0b", "status <- 0x0f"];

    [Theory]
    [InlineData(TargetArch.X86_64)]
    [InlineData(TargetArch.Aarch64)]
    public async Task Linux_follows_the_known_good_order(TargetArch arch)
    {
        var run = await Runs.LinuxAsync(arch);
        Assert.True(run.Run.Printed(LinuxGuest.DoneMarker), run.Run.Report());
        var steps = run.Steps;

        Assert.Empty(BringUpRules.Check(steps));
        // The rules, spelled out on the raw sequence too: status 0 -> 1 -> 3 -> 11 -> 15 ...
        var status = steps.Where(s => s.Phase == StepPhase.BringUp && s.Key.StartsWith("status <- ")).Select(s => s.Key[..14]).ToList();
        Assert.Equal(KnownGoodStatus, status);
        int Index(string prefix) => steps.ToList().FindIndex(s => s.Key.StartsWith(prefix) || s.Key.Contains(prefix));
        // ... FEATURES_OK read back before any queue set-up, the queue enabled before DRIVER_OK ...
        Assert.InRange(Index("status read back: FEATURES_OK kept"), Index("status <- 0x0b") + 1, Index("queue 0:") - 1);
        Assert.InRange(Index("queue_enable <- 1"), 0, Index("status <- 0x0f") - 1);
        // ... and Linux's interrupt-driven request: kick, completion, MSI-X message on the queue's vector.
        Assert.Contains(steps, s => s.Phase == StepPhase.FirstRequest && s.Key == "interrupt: MSI-X message for vector 1 (queue)");
        Assert.True(run.Analysis.MsixMessages > 0);
    }

    [Fact]
    public async Task GuestOS_follows_the_same_rules_and_an_injected_deviation_is_flagged()
    {
        var run = await Runs.GuestOsAsync(TargetArch.X86_64);
        Assert.True(run.Run.Passed, run.Run.Report());
        var steps = run.Steps.ToList();
        Assert.Empty(BringUpRules.Check(steps));
        // Like Linux at power-off, the device is reset once the work is done.
        Assert.Contains(steps, s => s.Phase == StepPhase.Shutdown && s.Key.StartsWith("status <- 0x00"));

        // The queue enabled after DRIVER_OK.
        var enable = steps.Single(s => s.Key == "queue 0: queue_enable <- 1");
        var late = steps.Where(s => s != enable).ToList();
        late.Insert(late.FindIndex(s => s.Key.StartsWith("status <- 0x0f")) + 1, enable);
        Assert.Contains(BringUpRules.Check(late), v => v.Rule == BringUpRules.QueueEnabledBeforeDriverOk);

        // No FEATURES_OK read-back.
        var unchecked_ = steps.Where(s => !s.Key.StartsWith("status read back")).ToList();
        Assert.Contains(BringUpRules.Check(unchecked_), v => v.Rule == BringUpRules.FeaturesOkReadBack);

        // FEATURES_OK before DRIVER: the status order is wrong.
        var swapped = steps.ToList();
        int driver = swapped.FindIndex(s => s.Key.StartsWith("status <- 0x03")), featuresOk = swapped.FindIndex(s => s.Key.StartsWith("status <- 0x0b"));
        (swapped[driver], swapped[featuresOk]) = (swapped[featuresOk], swapped[driver]);
        Assert.Contains(BringUpRules.Check(swapped), v => v.Rule == BringUpRules.StatusOrder);

        // The side-by-side comparison flags the injected step, and only what differs.
        var rows = SideBySide.Align(steps, late);
        Assert.Equal(2, rows.Count(r => !r.Same));
        Assert.All(rows.Where(r => !r.Same), r => Assert.Equal("queue 0: queue_enable <- 1", (r.Left ?? r.Right)!.Key));
        Assert.All(SideBySide.Align(steps, steps), r => Assert.True(r.Same));
    }

    [Fact]
    public async Task The_comparison_shows_what_GuestOS_does_differently_from_Linux()
    {
        var linux = await Runs.LinuxAsync(TargetArch.X86_64);
        var guest = await Runs.GuestOsAsync(TargetArch.X86_64);
        var rows = SideBySide.Align(linux.Steps, guest.Steps);
        // Same device, same negotiation: the feature words agree step by step.
        Assert.Contains(rows, r => r.Same && r.Left!.Key == "driver features word 1 <- 0x101");
        Assert.Contains(rows, r => r.Same && r.Left!.Key.StartsWith("status <- 0x0f"));
        // Whatever differs is rendered as DIFFERENT on its row.
        string table = SideBySide.Render(rows, linux.Name, guest.Name);
        Assert.Equal(rows.Count(r => !r.Same), table.Split('\n').Count(l => l.EndsWith("DIFFERENT")));
        var metrics = Metrics.From(linux);
        Assert.Equal(64, metrics.BytesPerRequest);
        Assert.True(metrics.MsixMessages >= 64, $"Linux took {metrics.MsixMessages} MSI-X interrupts for 4 KiB");
    }
}
