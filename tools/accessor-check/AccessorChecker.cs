using GuestOS.AccessorCheck.Elf;

namespace GuestOS.AccessorCheck;

/// <summary>The outcome for a whole ELF: one finding per accessor, in contract order.</summary>
public sealed record AccessorReport(IReadOnlyList<AccessorFinding> Findings)
{
    public bool Passed => Findings.Count > 0 && Findings.All(f => f.Ok);

    public IEnumerable<AccessorFinding> Failures => Findings.Where(f => !f.Ok);
}

/// <summary>Finds each accessor in an x86_64 ELF, disassembles it and judges it.</summary>
public static class AccessorChecker
{
    public static AccessorReport Check(string elfPath, IReadOnlyList<Accessor>? accessors = null) =>
        Check(Elf64File.Load(elfPath), accessors);

    public static AccessorReport Check(Elf64File elf, IReadOnlyList<Accessor>? accessors = null)
    {
        if (elf.Machine != Elf64File.MachineX86_64)
        {
            throw new ElfFormatException($"e_machine is {elf.Machine}, not x86_64 ({Elf64File.MachineX86_64})");
        }
        if (elf.Symbols.Count == 0)
        {
            throw new ElfFormatException("no .symtab: was the kernel stripped? The check needs the accessor symbols");
        }
        return new AccessorReport((accessors ?? Accessor.X86Set).Select(a => CheckOne(elf, a)).ToList());
    }

    private static AccessorFinding CheckOne(Elf64File elf, Accessor accessor)
    {
        // A defined global wins over same-named locals or undefined references.
        var symbol = elf.Symbols
            .Where(s => s.Name == accessor.Name && s.IsInRealSection)
            .OrderByDescending(s => s.IsGlobal)
            .FirstOrDefault();
        if (symbol is null)
        {
            return Broken(accessor, "(missing)", "symbol not defined in .symtab");
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
            return new AccessorFinding(accessor, "(size 0)", problems);
        }
        var section = elf.SectionOf(symbol);
        if (!section.IsExecutable)
        {
            problems.Add($"lies in {section.Name}, which is not executable");
        }

        var code = DecodedInstruction.DecodeAll(elf.BytesOf(symbol), symbol.Value);
        var finding = AccessorInspector.Inspect(accessor, code);
        return finding with { Problems = [.. problems, .. finding.Problems] };
    }

    private static AccessorFinding Broken(Accessor accessor, string found, string problem) =>
        new(accessor, found, [problem]);
}
