using Xunit;

namespace GuestOS.Bench.Tests;

// QEMU's -d in_asm,exec,nochain log of a boot, cut into the kernel's phases at each run of
// BootPhases.Mark. The lines are in the form QEMU 7.2 writes them (accel/tcg/cpu-exec.c's
// "Trace" line, translate-all.c's "IN:" block, the pci_update_mappings trace events).
public class TranslationProfileTests
{
    private const ulong Start = 0x40200000, End = 0x40222000, Mark = 0x4020a850;

    private static IEnumerable<string> Block(params ulong[] pcs) =>
        new[] { "----------------", "IN: " }.Concat(pcs.Select(pc => $"0x{pc:x8}:  d503201f  nop")).Append("");

    private static string Exec(ulong pc) => $"Trace 0: 0x7f126c000100 [0000000000004000/{pc:x16}/00000121/ff000200] ";

    private static readonly string[] Phases = ["memory", "banner", "pci"];

    private static List<string> Log() =>
    [
        // x86's firmware before kernel entry: its BAR mappings and Command writes are not the kernel's
        "pci_update_mappings_add virtio-rng-pci 00:01.0 4,0xfebf8000+0x4000",
        "pci_cfg_write virtio-rng-pci 00:01.0 @0x4 <- 0x103",
        .. Block(0x40200000, 0x40200004, 0x40200008), Exec(0x40200000),   // kernel entry: 1 TB, 3 instructions
        .. Block(0x00000000fffffff0),                                      // outside the image: not counted
        .. Block(Mark, Mark + 4), Exec(Mark),                              // Mark translated in memory, then run: memory ends
        .. Block(0x40201000), Exec(0x40201000), Exec(Mark),                // banner: 1 TB; Mark's TB is not translated again
        "pci_cfg_write virtio-rng-pci 00:01.0 @0x4 <- 0x100",              // pci: decoding off (Bus Master was off already),
        "pci_update_mappings_del virtio-rng-pci 00:01.0 4,0xfebf8000+0x4000", // one BAR unmapped,
        "pci_cfg_write virtio-rng-pci 00:01.0 @0x10 <- 0xffffffff",        // (not the Command register)
        "pci_cfg_write virtio-rng-pci 00:01.0 @0x4 <- 0x107",              // and decoding and Bus Master on:
        "pci_update_mappings_add virtio-rng-pci 00:01.0 4,0xfebf8000+0x4000", // 3 rebuilds
        .. Block(0x40202000, 0x40202004), .. Block(0x40203000), Exec(Mark), // pci: 2 TBs, 3 instructions
        .. Block(0x40204000), Exec(Mark),                                  // after the last phase: ignored
    ];

    [Fact]
    public void Each_run_of_Mark_closes_a_phase_and_only_the_images_code_counts()
    {
        var profile = TranslationProfile.Parse(Log(), Start, End, Mark, Phases);
        Assert.Equal([new PhaseTranslation("memory", 2, 5, 0), new PhaseTranslation("banner", 1, 1, 0), new PhaseTranslation("pci", 2, 3, 3)], profile);
    }

    [Fact]
    public void X86s_instruction_lines_and_exec_lines_parse_alike()
    {
        var log = new[] { "IN: ", "0x00100000:  fa                       cli", "0x00100001:  fc                       cld",
                          "Trace 0: 0x7fd628000100 [0000000000000000/0000000000107a34/00000040/ff000200] " };
        Assert.Equal([new PhaseTranslation("memory", 1, 2, 0)], TranslationProfile.Parse(log, 0x100000, 0x120000, 0x107a34, ["memory"]));
    }

    [Fact]
    public void A_log_where_Mark_ran_too_few_times_is_refused_by_name()
    {
        var e = Assert.Throws<FormatException>(() => TranslationProfile.Parse(Log(), Start, End, Mark + 4, Phases));
        Assert.Contains("ran BootPhases.Mark (0x4020a854) 0 times for 3 phases (memory, banner, pci)", e.Message);
        var cut = Log()[..(Log().IndexOf(Exec(Mark)) + 1)];   // the log ends after memory
        e = Assert.Throws<FormatException>(() => TranslationProfile.Parse(cut, Start, End, Mark, Phases));
        Assert.Contains("1 times for 3 phases", e.Message);
    }
}
