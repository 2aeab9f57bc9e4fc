using GuestOS.Compare.Spec;
using GuestOS.Compare.Spec.Rules;

namespace GuestOS.Compare.Tests;

// Each rule of the catalogue against real trace lines: GuestOS's and Linux's bring-ups as QEMU
// 7.2 recorded them (Fixtures/), which every rule passes, and the same lines with one thing
// broken, which exactly the rule concerned flags, with the broken line as evidence.
public class SpecRuleTests
{
    private static List<string> Fixture(string name) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".trace")).ToList();

    private static DeviceTrace Decode(IEnumerable<string> lines) =>
        DeviceTrace.Decode(QemuTraceEvent.ParseAll(lines), Transport.PciModern);

    // The common-configuration accesses, by what they are ("write 0x18 = 0x8": queue_size <- 8).
    private static bool Is(string line, string op, int offset, string value) =>
        line.Contains($"memory_region_ops_{op} ") && line.Contains($"addr 0xfebf80{offset:x2} value {value} ");

    private static int Find(List<string> lines, string op, int offset, string value, int from = 0) =>
        lines.FindIndex(from, l => Is(l, op, offset, value));

    private static List<string> Replace(List<string> lines, string op, int offset, string value, string newValue)
    {
        var copy = lines.ToList();
        int i = Find(copy, op, offset, value);
        Assert.True(i >= 0, $"fixture has no {op} of {value} at 0x{offset:x}");
        copy[i] = copy[i].Replace($"value {value} ", $"value {newValue} ");
        return copy;
    }

    private static List<string> Remove(List<string> lines, Func<string, bool> which) => lines.Where(l => !which(l)).ToList();

    /// <summary>Moves line <paramref name="from"/> to just after the first line matching <paramref name="after"/>.</summary>
    private static List<string> Move(List<string> lines, int from, Func<string, bool> after)
    {
        var copy = lines.ToList();
        string line = copy[from];
        copy.RemoveAt(from);
        copy.Insert(copy.FindIndex(l => after(l)) + 1, line);
        return copy;
    }

    private static List<string> Guest => Fixture("guestos-x86_64");

    // Each broken variant of GuestOS's bring-up, named by the rule that must catch it.
    public static TheoryData<string, string> Violations => new()
    {
        { "status-sequence", "DRIVER skipped: 0x1 then 0xb" },
        { "status-sequence", "no reset before ACKNOWLEDGE" },
        { "reset-read-back", "ACKNOWLEDGE written without reading 0 back" },
        { "features-before-features-ok", "device_feature never read" },
        { "only-offered-features", "bit 0 accepted, not offered" },
        { "accept-version-1", "VERSION_1 offered, not accepted" },
        { "no-feature-write-after-features-ok", "driver_feature written again after FEATURES_OK" },
        { "features-ok-read-back", "no status read after FEATURES_OK" },
        { "msix-vector-read-back", "queue_msix_vector not read back" },
        { "queue-size-not-above-max", "queue_size 16 on a queue of 8" },
        { "queue-size-power-of-2", "queue_size 6" },
        { "ring-alignment", "used ring at +2" },
        { "queue-enable-not-zero", "queue_enable 0 before 1" },
        { "queues-before-driver-ok", "queue_enable after DRIVER_OK" },
        { "no-notify-before-driver-ok", "kick before DRIVER_OK" },
        { "entropy-device-writable", "a device-readable buffer" },
    };

    private static List<string> Broken(string variant)
    {
        var g = Guest;
        return variant switch
        {
            "DRIVER skipped: 0x1 then 0xb" => Remove(g, l => Is(l, "write", 0x14, "0x3")),
            "no reset before ACKNOWLEDGE" => Remove(g, l => Is(l, "write", 0x14, "0x0")),
            "ACKNOWLEDGE written without reading 0 back" => Remove(g, l => Is(l, "read", 0x14, "0x0")),
            "device_feature never read" => Remove(g, l => Is(l, "read", 0x04, "0x30000000") || Is(l, "read", 0x04, "0x101")),
            "bit 0 accepted, not offered" => Replace(g, "write", 0x0c, "0x30000000", "0x30000001"),
            "VERSION_1 offered, not accepted" => Replace(g, "write", 0x0c, "0x101", "0x100"),
            "driver_feature written again after FEATURES_OK" => Insert(g, Find(g, "read", 0x14, "0xb") + 1, g[Find(g, "write", 0x0c, "0x101")].Replace("1796587831.596495", "1796587831.596640")),
            "no status read after FEATURES_OK" => g.Where((l, i) => i != Find(g, "read", 0x14, "0xb")).ToList(),
            "queue_msix_vector not read back" => Remove(g, l => Is(l, "read", 0x1a, "0x1")),
            "queue_size 16 on a queue of 8" => Replace(g, "write", 0x18, "0x8", "0x10"),
            "queue_size 6" => Replace(g, "write", 0x18, "0x8", "0x6"),
            "used ring at +2" => Replace(g, "write", 0x30, "0x115f0c0", "0x115f0c2"),
            "queue_enable 0 before 1" => Insert(g, Find(g, "write", 0x1c, "0x1"), g[Find(g, "write", 0x1c, "0x1")].Replace("value 0x1 ", "value 0x0 ")),
            "queue_enable after DRIVER_OK" => Move(g, Find(g, "write", 0x1c, "0x1"), l => Is(l, "write", 0x14, "0xf")),
            "kick before DRIVER_OK" => Move(g, g.FindIndex(l => l.Contains(":virtio_queue_notify ")), l => Is(l, "write", 0x1c, "0x1")),
            "a device-readable buffer" => g.Select((l, i) => i == g.FindIndex(x => x.Contains(":virtqueue_pop ")) ? l.Replace("in_num 1 out_num 0", "in_num 0 out_num 1") : l).ToList(),
            _ => throw new ArgumentException(variant),
        };

        static List<string> Insert(List<string> lines, int at, string line)
        {
            var copy = lines.ToList();
            copy.Insert(at, line);
            return copy;
        }
    }

    [Theory]
    [InlineData("guestos-x86_64")]
    [InlineData("linux-x86_64")]
    public void Every_rule_holds_on_the_real_bring_ups(string fixture)
    {
        var verdicts = RuleCatalogue.Check(Decode(Fixture(fixture)));
        Assert.All(verdicts, v => Assert.True(v.Outcome == RuleOutcome.Holds, $"{v.Rule}: {v.Outcome} {v.Why} {string.Join("; ", v.Findings.Select(f => f.What))}"));
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void Each_broken_variant_is_flagged_by_exactly_its_rule_with_the_broken_line_as_evidence(string rule, string variant)
    {
        var lines = Broken(variant);
        var changed = lines.Except(Guest).ToList();   // the edited or moved line(s)
        var verdicts = RuleCatalogue.Check(Decode(lines));
        var violated = verdicts.Where(v => v.Outcome == RuleOutcome.Violated).ToList();
        Assert.Equal([rule], violated.Select(v => v.Rule.Id));
        var finding = Assert.Single(violated[0].Findings);
        Assert.NotEmpty(finding.Evidence);
        Assert.All(finding.Evidence, e => Assert.Contains(e.Source.Raw, lines));
        Assert.All(finding.Evidence, e => Assert.Equal(e.Source.Raw, lines[e.Source.LineNumber - 1]));
        if (changed.Count > 0) Assert.Contains(finding.Evidence, e => changed.Contains(e.Source.Raw));
    }

    // QEMU's virtio_error sets DEVICE_NEEDS_RESET; a driver that adds DRIVER_OK to the status it
    // reads (Linux's virtio_add_status, GuestOS's) writes 0x4f. That is not a sequence violation.
    [Fact]
    public void The_status_sequence_accepts_NEEDS_RESET_echoed_back_but_not_a_dropped_bit()
    {
        Assert.Equal(RuleOutcome.Holds, new StatusSequence().Check(Decode(Replace(Guest, "write", 0x14, "0xf", "0x4f"))).Outcome);
        Assert.Equal(RuleOutcome.Violated, new StatusSequence().Check(Decode(Replace(Guest, "write", 0x14, "0xf", "0x7"))).Outcome);
    }

    [Fact]
    public void The_entropy_queue_rule_is_not_observable_when_QEMU_pops_no_buffer()
    {
        var verdict = new EntropyDeviceWritable().Check(Decode(Remove(Guest, l => l.Contains(":virtqueue_pop "))));
        Assert.Equal(RuleOutcome.NotObservable, verdict.Outcome);
        Assert.Contains("vhost-user", verdict.Why);
    }

    [Fact]
    public void A_guest_that_never_touches_the_device_is_judged_never_reset_not_violating()
    {
        var trace = Decode(Remove(Guest, l => l.Contains("virtio-pci-common")));
        Assert.False(trace.Touched);
        Assert.All(RuleCatalogue.Check(trace), v => Assert.Equal(RuleOutcome.NotObservable, v.Outcome));
        var output = new StringWriter();
        Assert.Equal(CheckReport.ExitNeverReset, CheckReport.Write(output, trace, RuleCatalogue.Check(trace), "x.trace"));
        Assert.Contains("never reset the device", output.ToString());
    }

    [Fact]
    public void The_report_quotes_the_rule_and_its_evidence_and_exits_1_on_a_MUST_violation()
    {
        var lines = Broken("kick before DRIVER_OK");
        var trace = Decode(lines);
        var output = new StringWriter();
        Assert.Equal(CheckReport.ExitMustViolated, CheckReport.Write(output, trace, RuleCatalogue.Check(trace), "build/g.trace"));
        string text = output.ToString();
        Assert.Contains("MUST 3.1.1 no-notify-before-driver-ok: VIOLATED", text);
        Assert.Contains("\"The driver MUST NOT send any buffer available notifications to the device before setting DRIVER_OK.\"", text);
        int kick = lines.FindIndex(l => l.Contains(":virtio_queue_notify ")) + 1;
        Assert.True(text.Contains($"g.trace:{kick}  1796587831.603403  notify queue 0"), text);
        Assert.Contains($"g.trace:{kick}  1796587831.603403  notify queue 0", text);
        Assert.Contains("not observable:", Clean().Text);
        Assert.Equal(CheckReport.ExitClean, Clean().Exit);

        static (string Text, int Exit) Clean()
        {
            var trace = Decode(Guest.Where(l => !l.Contains(":virtqueue_pop ")));
            var output = new StringWriter();
            int exit = CheckReport.Write(output, trace, RuleCatalogue.Check(trace), "g.trace");
            return (output.ToString(), exit);
        }
    }

    [Fact]
    public void Every_rule_names_its_section_level_one_line_of_spec_text_and_the_traces_it_needs()
    {
        Assert.Equal(RuleCatalogue.All.Count, RuleCatalogue.All.Select(r => r.Id).Distinct().Count());
        Assert.All(RuleCatalogue.All, r =>
        {
            Assert.Matches(@"^\d+(\.\d+)*", r.Section);
            Assert.DoesNotContain('\n', r.SpecText);
            Assert.Contains(r.LevelName, r.SpecText.Contains("MUST") ? "MUST" : r.LevelName);
            Assert.NotEmpty(r.Needs);
        });
    }
}
