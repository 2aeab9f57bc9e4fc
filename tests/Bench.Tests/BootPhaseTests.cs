using GuestOS.Runner;
using Xunit;

namespace GuestOS.Bench.Tests;

// The kernel's boot-phase lines (BENCH-BOOT, BENCH-BOOT-AGAIN; kernel/hal/BootPhases.cs) and the
// table tools/bench makes of them. Nothing here is timed: the numbers are given.
public class BootPhaseTests
{
    // What an x86_64 rng.bench boot prints around its phases (abridged).
    private static readonly string[] Boot =
    [
        "GuestOS 0.1 x86_64 booted by multiboot - C# compiled by NativeAOT ilc, no .NET runtime",
        "BENCH-BOOT phase=memory us=1006 accesses=3",
        "BENCH-BOOT phase=banner us=491 accesses=183",
        "BENCH-BOOT phase=clock us=530 accesses=4",
        "BENCH-BOOT phase=interrupts us=839 accesses=65",
        "BENCH-BOOT phase=firmware us=1923 accesses=0",
        "BENCH-BOOT phase=pci us=5615 accesses=230",
        "BENCH-BOOT phase=transport us=1118 accesses=42",
        "BENCH-BOOT phase=bring-up us=2306 accesses=65",
        "BENCH-DRIVER_OK rng guest_us=13828 buffers=8 bufsize=524288 irq=msix ring=split transport=pci",
        "BENCH-START rng",
        "BENCH-END rng bytes=1048576 guest_us=2947 irqs=2 kicks=1 completions=10",
        "BENCH-BOOT-AGAIN phase=firmware us=180 accesses=0",
        "BENCH-BOOT-AGAIN phase=pci us=3117 accesses=222",
        "GUESTOS-VERDICT: PASS",
    ];

    [Fact]
    public void The_phases_come_in_boot_order_with_their_times_and_accesses()
    {
        var b = GuestBootPhases.Parse(Boot);
        Assert.Equal(GuestBootPhases.Names, b.Phases.Select(p => p.Phase));
        Assert.Equal(new BootPhaseTime("pci", 5615, 230), b.Phases[5]);
        Assert.Equal(13828, b.TotalUs);   // the phases add up to DRIVER_OK
        Assert.Equal([new BootPhaseTime("firmware", 180, 0), new BootPhaseTime("pci", 3117, 222)], b.Again);
    }

    [Fact]
    public void A_boot_without_a_phase_is_parsed_with_the_phases_it_has()
    {
        var b = GuestBootPhases.Parse(Boot.Where(l => !l.Contains("phase=transport") && !l.StartsWith("BENCH-BOOT-AGAIN")));
        Assert.Equal(["memory", "banner", "clock", "interrupts", "firmware", "pci", "bring-up"], b.Phases.Select(p => p.Phase));
        Assert.Empty(b.Again);
    }

    [Theory]
    [InlineData("BENCH-BOOT phase=pci us=12 accesses=x", "unparsable boot phase line")]
    [InlineData("BENCH-BOOT phase=pci us=-1 accesses=3", "unparsable boot phase line")]
    [InlineData("BENCH-BOOT phase=acpi us=12 accesses=3", "unknown boot phase 'acpi'")]
    [InlineData("BENCH-BOOT phase=memory us=12 accesses=3", "boot phase 'memory' repeated or out of order after 'bring-up'")]
    [InlineData("BENCH-BOOT phase=bring-up us=12 accesses=3", "boot phase 'bring-up' repeated or out of order after 'bring-up'")]
    public void A_bad_line_is_refused_by_name(string bad, string message)
    {
        var lines = Boot.Take(9).Append(bad);
        var e = Assert.Throws<FormatException>(() => GuestBootPhases.Parse(lines));
        Assert.Contains(message, e.Message);
        Assert.Contains(bad, e.Message);   // the offending line is quoted
    }

    [Fact]
    public void The_second_runs_are_ordered_too()
    {
        var lines = Boot.Append("BENCH-BOOT-AGAIN phase=firmware us=1 accesses=0");
        var e = Assert.Throws<FormatException>(() => GuestBootPhases.Parse(lines));
        Assert.Contains("boot phase 'firmware' repeated or out of order after 'pci'", e.Message);
    }

    [Fact]
    public void A_run_without_phase_lines_is_refused() =>
        Assert.Contains("no BENCH-BOOT lines", Assert.Throws<FormatException>(() => GuestBootPhases.Parse(Boot.Take(1))).Message);

    private static (GuestBootPhases, long) Run(long pciUs, long pciAgainUs, long driverOkUs)
    {
        var lines = Boot.Select(l => l.StartsWith("BENCH-BOOT phase=pci ") ? $"BENCH-BOOT phase=pci us={pciUs} accesses=230"
                                   : l.StartsWith("BENCH-BOOT-AGAIN phase=pci ") ? $"BENCH-BOOT-AGAIN phase=pci us={pciAgainUs} accesses=222" : l);
        return (GuestBootPhases.Parse(lines), driverOkUs);
    }

    [Fact]
    public void The_table_has_each_phases_median_per_arch_and_the_total()
    {
        var runs = new Dictionary<string, IReadOnlyList<(GuestBootPhases, long)>>
        {
            ["x86_64"] = [Run(5000, 3000, 12000), Run(9000, 4000, 20000), Run(6000, 3500, 14000)],
            ["aarch64"] = [Run(1500, 2000, 9000)],
        };
        var rows = BootPhaseTable.Rows(runs);
        Assert.Equal([.. GuestBootPhases.Names, BootPhaseTable.Total], rows.Select(r => r.Phase));
        var pci = rows.Single(r => r.Phase == "pci");
        Assert.Equal(new BootPhaseFigures(6000, 230, 3500), pci.ByArch["x86_64"]);
        Assert.Equal(new BootPhaseFigures(1500, 230, 2000), pci.ByArch["aarch64"]);
        Assert.True(double.IsNaN(rows.Single(r => r.Phase == "memory").ByArch["x86_64"].AgainUs));   // never repeated
        var total = rows[^1];
        Assert.Equal(14000, total.ByArch["x86_64"].Us);
        Assert.Equal(592, total.ByArch["x86_64"].Accesses);
        Assert.All(rows, r => Assert.False(string.IsNullOrWhiteSpace(r.Bound)));

        var table = BootPhaseTable.Format(["x86_64", "aarch64"], rows).ToList();
        Assert.Equal(2 + rows.Count, table.Count);
        Assert.StartsWith("| pci | 6000 | 230 | - | 3500 | 1500 | 230 | - | 2000 | x86_64: 230 trapped accesses", table[2 + 5]);
        Assert.StartsWith("| memory | 1006 | 3 | - | - | 1006 | 3 | - | - |", table[2]);
    }

    // The logged boot's counts, beside the timed runs: pci ran twice, 6000 then 3500 us, and its
    // first run translated 500 TBs, so a TB costs 5 us, and that prices every phase's TBs.
    [Fact]
    public void A_translation_profile_prices_each_phases_TBs_at_what_the_second_runs_saved()
    {
        var runs = new Dictionary<string, IReadOnlyList<(GuestBootPhases, long)>> { ["x86_64"] = [Run(6000, 3500, 14000)] };
        var profile = GuestBootPhases.Names.Select(p => new PhaseTranslation(p, p switch { "pci" => 500, "memory" => 100, _ => 10 }, 0,
                                                                               p == "transport" ? 5 : 0)).ToList();
        // firmware ran twice too (1923 then 180 us): with its 10 TBs the cost is (2500 + 1743) / 510.
        double perBlock = (2500 + 1743) / 510.0;
        var rows = BootPhaseTable.Rows(runs, new Dictionary<string, IReadOnlyList<PhaseTranslation>> { ["x86_64"] = profile });
        var memory = rows.Single(r => r.Phase == "memory").ByArch["x86_64"];
        Assert.Equal(100, memory.Blocks);
        Assert.Equal(100 * perBlock, memory.TranslationUs, 6);
        Assert.Contains($"x86_64: translation ~{Math.Round(100 * 100 * perBlock / 1006)}% (100 TBs), 3 trapped accesses", rows[0].Bound);
        var transport = rows.Single(r => r.Phase == "transport");
        Assert.Equal(5, transport.ByArch["x86_64"].MemoryMapRebuilds);
        Assert.Contains("5 memory-map rebuilds", transport.Bound);
        Assert.Equal(500 + 100 + 6 * 10, rows[^1].ByArch["x86_64"].Blocks);
        Assert.StartsWith("| memory | 1006 | 3 | 100 | - |", BootPhaseTable.Format(["x86_64"], rows).ElementAt(2));
    }

    [Fact]
    public void Without_a_phase_run_twice_there_is_no_cost_per_TB()
    {
        var phases = new Dictionary<string, BootPhaseFigures> { ["pci"] = new(6000, 230, double.NaN) };
        Assert.True(double.IsNaN(BootPhaseTable.UsPerBlock(phases, [new PhaseTranslation("pci", 500, 2000, 0)])));
    }
}
