using GuestOS.AccessorCheck.Elf;

namespace GuestOS.AccessorCheck;

/// <summary>The outcome for a whole ELF: one finding per accessor, in contract order.</summary>
public sealed record AccessorReport(IReadOnlyList<AccessorFinding> Findings)
{
    public bool Passed => Findings.Count > 0 && Findings.All(f => f.Ok);

    public IEnumerable<AccessorFinding> Failures => Findings.Where(f => !f.Ok);
}

/// <summary>
/// Finds each accessor in an x86_64 or aarch64 ELF, disassembles it (Iced for x86_64,
/// llvm-objdump for aarch64) and judges it.
/// </summary>
public static class AccessorChecker
{
    public static AccessorReport Check(string elfPath, IReadOnlyList<Accessor>? accessors = null) =>
        Check(Elf64File.Load(elfPath), accessors);

    public static AccessorReport Check(Elf64File elf, IReadOnlyList<Accessor>? accessors = null)
    {
        if (elf.Machine is not (Elf64File.MachineX86_64 or Elf64File.MachineAarch64))
        {
            throw new ElfFormatException(
                $"e_machine is {elf.Machine}, neither x86_64 ({Elf64File.MachineX86_64}) nor aarch64 ({Elf64File.MachineAarch64})");
        }
        if (elf.Symbols.Count == 0)
        {
            throw new ElfFormatException("no .symtab: was the kernel stripped? The check needs the accessor symbols");
        }
        var located = (accessors ?? Accessor.Set).Select(a => Locate(elf, a)).ToList();
        var arm64Code = elf.Machine == Elf64File.MachineAarch64 ? DisassembleArm64(elf, located) : null;
        return new AccessorReport(located.Select(l => l.Symbol is null ? l.Finding : InspectCode(elf, l, arm64Code)).ToList());
    }

    /// <summary>One accessor's symbol, and the problems with the symbol itself (an unusable symbol is the whole finding).</summary>
    private sealed record Located(Accessor Accessor, ElfSymbol? Symbol, AccessorFinding Finding);

    private static Located Locate(Elf64File elf, Accessor accessor)
    {
        // A defined global wins over same-named locals or undefined references.
        var symbol = elf.Symbols
            .Where(s => s.Name == accessor.Name && s.IsInRealSection)
            .OrderByDescending(s => s.IsGlobal)
            .FirstOrDefault();
        if (symbol is null)
        {
            return new(accessor, null, new(accessor, "(missing)", ["symbol not defined in .symtab"]));
        }

        var problems = new List<string>();
        if (!symbol.IsFunction)
        {
            problems.Add($"is not a function symbol: add '.type {accessor.Name}, @function'");
        }
        if (!symbol.IsGlobal)
        {
            problems.Add($"is local: add '.globl {accessor.Name}'");
        }
        if (symbol.Size == 0)
        {
            problems.Add($"has size 0, so its code cannot be delimited: add '.size {accessor.Name}, . - {accessor.Name}'");
            return new(accessor, null, new(accessor, "(size 0)", problems));
        }
        var section = elf.SectionOf(symbol);
        if (!section.IsExecutable)
        {
            problems.Add($"lies in {section.Name}, which is not executable");
        }
        return new(accessor, symbol, new(accessor, "", problems));
    }

    /// <summary>Judges the code of a located symbol; the symbol's own problems come first.</summary>
    private static AccessorFinding InspectCode(Elf64File elf, Located located, IReadOnlyList<Arm64Instruction>? arm64Code)
    {
        var (accessor, symbol) = (located.Accessor, located.Symbol!);
        var code = arm64Code is null
            ? X86AccessorInspector.Inspect(accessor, DecodedInstruction.DecodeAll(elf.BytesOf(symbol), symbol.Value))
            : Arm64AccessorInspector.Inspect(accessor, arm64Code.Where(i => i.Address >= symbol.Value && i.Address < symbol.Value + symbol.Size).ToList());
        return code with { Problems = [.. located.Finding.Problems, .. code.Problems] };
    }

    /// <summary>One llvm-objdump run over the span of all accessors; each symbol then takes its share.</summary>
    private static IReadOnlyList<Arm64Instruction> DisassembleArm64(Elf64File elf, IReadOnlyList<Located> located)
    {
        var symbols = located.Select(l => l.Symbol).OfType<ElfSymbol>().ToList();
        if (symbols.Count == 0)
        {
            return [];
        }
        var path = elf.Path ?? throw new ArgumentException("the aarch64 check runs llvm-objdump on a file: load the ELF from a path");
        return LlvmObjdump.Disassemble(path, symbols.Min(s => s.Value), symbols.Max(s => s.Value + s.Size));
    }
}
