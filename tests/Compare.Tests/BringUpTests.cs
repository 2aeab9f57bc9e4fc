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
        var late = EnabledAfterDriverOk(steps);
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

    /// <summary>The deviation the tests inject: the queue enabled only after DRIVER_OK.</summary>
    private static List<BringUpStep> EnabledAfterDriverOk(IReadOnlyList<BringUpStep> steps)
    {
        var enable = steps.Single(s => s.Key == "queue 0: queue_enable <- 1");
        var late = steps.Where(s => s != enable).ToList();
        late.Insert(late.FindIndex(s => s.Key.StartsWith("status <- 0x0f")) + 1, enable);
        return late;
    }

    /// <summary>Linux's and GuestOS's x86_64 runs, booted once (one after the other) for the tests that need both.</summary>
    private static readonly Lazy<Task<(GuestTrace Linux, GuestTrace GuestOs)>> X86Pair =
        new(async () => (await Runs.LinuxAsync(TargetArch.X86_64), await Runs.GuestOsAsync(TargetArch.X86_64)));

    [Fact]
    public async Task The_comparison_shows_GuestOS_the_same_as_Linux_except_where_each_unmasks_the_queue_vector()
    {
        var (linux, guest) = await X86Pair.Value;
        var rows = SideBySide.Align(linux.Steps, guest.Steps);
        string table = SideBySide.Render(rows, linux.Name, guest.Name);

        // The one known difference: GuestOS unmasks every MSI-X table entry while programming
        // the table (msix_capability_init's order), before the queue exists; Linux unmasks the
        // queue's entry 1 only when vp_find_vqs_msix requests the queue's interrupt, after
        // setting the queue up (vp_setup_vq) and before enabling it. Each shows as a row of its own.
        int Row(Func<AlignedRow, bool> match) => rows.ToList().FindIndex(r => match(r));
        const string unmask = "MSI-X table entry 1 unmasked";
        var guestOnly = Row(r => r.Left is null);
        var linuxOnly = Row(r => r.Right is null);
        Assert.True(guestOnly >= 0 && linuxOnly >= 0, table);
        Assert.Equal(unmask, rows[guestOnly].Right!.Key);
        Assert.Equal(unmask, rows[linuxOnly].Left!.Key);
        Assert.InRange(guestOnly, Row(r => r.Same && r.Left!.Key == "MSI-X table entry 0 unmasked") + 1, Row(r => r.Same && r.Left!.Key == "queue 0: queue_size read = 8") - 1);
        Assert.InRange(linuxOnly, Row(r => r.Same && r.Left!.Key == "queue 0: queue_msix_vector <- vector 1") + 1, Row(r => r.Same && r.Left!.Key == "queue 0: queue_enable <- 1") - 1);

        // Every other step, bring-up, first request and shutdown, is the same on both sides.
        Assert.All(rows.Where((_, i) => i != guestOnly && i != linuxOnly), r => Assert.True(r.Same, $"'{(r.Left ?? r.Right)!.Key}' differs:\n{table}"));
        Assert.Contains(rows, r => r.Same && r.Left!.Key == "driver features word 1 <- 0x101");
        Assert.Contains(rows, r => r.Same && r.Left!.Phase == StepPhase.FirstRequest && r.Left.Key == "interrupt: MSI-X message for vector 1 (queue)");
        Assert.Contains(rows, r => r.Same && r.Left!.Phase == StepPhase.Shutdown && r.Left.Key.StartsWith("status <- 0x00"));

        // The rendered table says so: exactly those two rows DIFFERENT, the count line below it.
        var different = table.Split('\n').Where(l => l.EndsWith("DIFFERENT")).ToList();
        Assert.Equal(2, different.Count);
        Assert.All(different, l => Assert.Contains(unmask, l));
        var metrics = Metrics.From(linux);
        Assert.Equal(64, metrics.BytesPerRequest);
        Assert.True(metrics.MsixMessages >= 64, $"Linux took {metrics.MsixMessages} MSI-X interrupts for 4 KiB");
    }

    [Fact]
    public async Task Make_compare_exits_0_when_both_guests_keep_the_rules_and_1_when_one_breaks_a_rule()
    {
        var (linuxRun, guestRun) = await X86Pair.Value;
        var linux = ComparedGuest.Linux(linuxRun);
        var guest = ComparedGuest.GuestOs(guestRun);

        var clean = new StringWriter();
        Assert.Equal(0, CompareReport.Write(clean, linux, guest));
        Assert.Contains("rules (Linux 6.1): all hold", clean.ToString());
        Assert.Contains("rules (GuestOS): all hold", clean.ToString());

        // GuestOS enabling its queue after DRIVER_OK (3.1.1 step 7 before step 8) fails `make compare`.
        var broken = new StringWriter();
        Assert.Equal(1, CompareReport.Write(broken, linux, guest with { Steps = EnabledAfterDriverOk(guest.Steps) }));
        Assert.Contains("rules (GuestOS): BROKEN\n  queue enabled before DRIVER_OK: queue_enable written after DRIVER_OK", broken.ToString());
        Assert.Contains("rules (Linux 6.1): all hold", broken.ToString());

        // So does Linux's side breaking one (no FEATURES_OK read-back), and a guest that did not finish.
        var noReadBack = linux with { Steps = linux.Steps.Where(s => !s.Key.StartsWith("status read back")).ToList() };
        Assert.Equal(1, CompareReport.Write(TextWriter.Null, noReadBack, guest));
        var failed = new StringWriter();
        Assert.Equal(1, CompareReport.Write(failed, linux, guest with { Failure = "GuestOS failed:\nrunner: FAIL" }));
        Assert.StartsWith("GuestOS failed:", failed.ToString());
    }
}

// Both guests on virt's virtio-mmio (version 2, QEMU's virtio-rng-device): the normalizer reads
// the same bring-up from the virtio-mmio registers, so the two line up step for step.
public class VirtioMmioBringUpTests
{
    private static readonly string[] KnownGoodStatus =
        ["status <- 0x00", "status <- 0x01", "status <- 0x03", "status <- 0x0b", "status <- 0x0f"];

    [Fact]
    public async Task Linux_and_GuestOS_bring_up_virtio_mmio_in_the_same_order()
    {
        foreach (var run in new[] { await Runs.LinuxAsync(TargetArch.Aarch64, RngKind.BuiltinMmio),
                                    await Runs.GuestOsAsync(TargetArch.Aarch64, RngKind.BuiltinMmio) })
        {
            var steps = run.Steps;
            Assert.Empty(BringUpRules.Check(steps));
            var status = steps.Where(s => s.Phase == StepPhase.BringUp && s.Key.StartsWith("status <- ")).Select(s => s.Key[..14]).ToList();
            Assert.Equal(KnownGoodStatus, status);
            int Index(string key) => steps.ToList().FindIndex(s => s.Key.StartsWith(key));
            Assert.InRange(Index("status read back: FEATURES_OK kept"), Index("status <- 0x0b") + 1, Index("queue 0: queue_enable read = 0") - 1);
            Assert.InRange(Index("queue 0: ring areas <- desc"), Index("queue 0: queue_size <- "), Index("queue 0: queue_enable <- 1") - 1);
            Assert.InRange(Index("queue 0: queue_enable <- 1"), 0, Index("status <- 0x0f") - 1);
            // The first request's interrupt is the slot's wired line (no MSI-X on virtio-mmio).
            Assert.Contains(steps, s => s.Phase == StepPhase.FirstRequest && s.Key == "interrupt: the virtio-mmio line goes high");
            Assert.Equal(0, run.Analysis.MsixMessages);
        }
    }
}
