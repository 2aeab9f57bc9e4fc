using System.Globalization;
using System.Text.RegularExpressions;

namespace GuestOS.Bench;

/// <summary>What QEMU did for the kernel in one boot phase: translation blocks (TBs) and guest
/// instructions it translated from the kernel image, and how often it rebuilt its whole memory
/// map for a PCI function: once per BAR mapped or unmapped (pci_update_mappings does them one at
/// a time) and once per change of the Bus Master bit (pci_default_write_config enables or
/// disables the function's bus-master region).</summary>
public sealed record PhaseTranslation(string Phase, int Blocks, int Instructions, int MemoryMapRebuilds);

/// <summary>
/// The boot's phases as QEMU saw them, from one boot logged with
/// <c>-d in_asm,exec,nochain -trace pci_update_mappings_add -trace pci_update_mappings_del</c>:
///   IN:                              a TB translated; its instructions follow, one per line
///   0x40200000:  aa0003f3  mov ...   (x86: 0x00100000:  mov ...) a translated instruction
///   Trace 0: 0x7f.. [cs_base/pc/flags/cflags]   a TB about to run (nochain: every one is logged)
///   pci_update_mappings_add|del ...  a BAR mapped or unmapped
///   pci_cfg_write virtio-rng-pci 00:01.0 @0x4 <- 0x107   a configuration write (the Command register)
/// The kernel ends each phase with a call of Hal.BootPhases.Mark, so the n-th run of Mark's first
/// block closes the n-th phase the kernel reports. Counting starts with the first block run from
/// the kernel image: x86's firmware runs before it (and its configuration writes are followed,
/// to know each function's Bus Master bit). Nothing here is timed; logging slows the boot.
/// </summary>
public static partial class TranslationProfile
{
    /// <summary>The kernel image's bounds and the entry of Hal.BootPhases.Mark, from the ELF's symbols.</summary>
    public static (ulong ImageStart, ulong ImageEnd, ulong MarkEntry) Symbols(string kernelElf)
    {
        var symbols = GuestOS.AccessorCheck.Elf.Elf64File.Load(kernelElf).Symbols;
        ulong Address(string name) => symbols.FirstOrDefault(s => s.Name == name)?.Value
            ?? throw new FormatException($"{kernelElf} has no symbol {name} (stripped?)");
        return (Address("__image_start"), Address("__data_end"), Address(MarkSymbol));
    }

    public const string MarkSymbol = "kernel_GuestOS_Hal_BootPhases__Mark";

    /// <summary>QEMU's options for the logged boot, writing to <paramref name="logPath"/>.</summary>
    public static IReadOnlyList<string> QemuOptions(string logPath) =>
        ["-d", "in_asm,exec,nochain", "-trace", "pci_update_mappings_add", "-trace", "pci_update_mappings_del", "-trace", "pci_cfg_write", "-D", logPath];

    /// <summary>
    /// Counts per phase, for <paramref name="phases"/> (the phases the boot reported, in order) from
    /// the log's lines. Throws when Mark ran fewer times than there are phases (the marker is not
    /// Mark's entry, or the log is cut), naming how many it saw.
    /// </summary>
    public static IReadOnlyList<PhaseTranslation> Parse(IEnumerable<string> log, ulong imageStart, ulong imageEnd, ulong markEntry, IReadOnlyList<string> phases)
    {
        var blocks = new int[phases.Count];
        var instructions = new int[phases.Count];
        var rebuilds = new int[phases.Count];
        var command = new Dictionary<string, ulong>();   // the last Command value written, per function
        int phase = 0;
        bool entered = false, blockStart = false;
        foreach (var line in log)
        {
            if (line.StartsWith("Trace ", StringComparison.Ordinal))
            {
                var m = ExecLine().Match(line);
                if (!m.Success) continue;
                ulong pc = ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber);
                entered |= pc >= imageStart && pc < imageEnd;
                if (pc == markEntry && ++phase == phases.Count) break;
            }
            else if (line.StartsWith("IN:", StringComparison.Ordinal)) blockStart = true;
            else if (line.StartsWith("0x", StringComparison.Ordinal))
            {
                var m = InstructionLine().Match(line);
                if (!m.Success) continue;
                ulong pc = ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber);
                if (pc >= imageStart && pc < imageEnd)
                {
                    instructions[phase]++;
                    if (blockStart) blocks[phase]++;
                }
                blockStart = false;
            }
            else if (line.StartsWith("pci_update_mappings_", StringComparison.Ordinal))
            {
                if (entered) rebuilds[phase]++;
            }
            else if (line.StartsWith("pci_cfg_write ", StringComparison.Ordinal) && CommandWrite().Match(line) is { Success: true } w)
            {
                ulong value = ulong.Parse(w.Groups[2].Value, NumberStyles.HexNumber);
                ulong before = command.GetValueOrDefault(w.Groups[1].Value);   // 0 after reset
                command[w.Groups[1].Value] = value;
                if (entered && ((value ^ before) & BusMaster) != 0) rebuilds[phase]++;
            }
        }
        if (phase < phases.Count)
            throw new FormatException($"the logged boot ran BootPhases.Mark (0x{markEntry:x}) {phase} times for {phases.Count} phases " +
                                      $"({string.Join(", ", phases)}): is the log whole, and was it made with -d exec,nochain?");
        return phases.Select((p, i) => new PhaseTranslation(p, blocks[i], instructions[i], rebuilds[i])).ToList();
    }

    private const ulong BusMaster = 1 << 2;   // PCI_COMMAND_MASTER

    [GeneratedRegex(@"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")]
    private static partial Regex ExecLine();

    [GeneratedRegex(@"^0x([0-9a-f]+):")]
    private static partial Regex InstructionLine();

    // "pci_cfg_write <name> <bus:dev.fn> @0x4 <- 0x107": a write of the Command register.
    [GeneratedRegex(@"^pci_cfg_write \S+ (\S+) @0x4 <- 0x([0-9a-f]+)$")]
    private static partial Regex CommandWrite();
}
