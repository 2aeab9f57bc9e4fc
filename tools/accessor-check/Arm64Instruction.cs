using System.Text.RegularExpressions;

namespace GuestOS.AccessorCheck;

/// <summary>How an AArch64 load/store class instruction touches memory.</summary>
/// <param name="Direction">"load", "store", "read-modify-write" (atomics) or "prefetch".</param>
/// <param name="Count">Accesses it makes: 2 for a pair (ldp/stp), one per register for ld1..st4.</param>
/// <param name="Form">"single", "pair" or "register list".</param>
/// <param name="Bits">Width of each access; 0 when the instruction names none (prefetch).</param>
/// <param name="Address">The address operand as printed: "[x0]", "[x0, #4]!", "[x0], #4".</param>
public sealed record Arm64MemoryAccess(string Direction, int Count, string Form, int Bits, string Address)
{
    public bool IsStack => Address.StartsWith("[sp", StringComparison.Ordinal);
}

/// <summary>
/// One AArch64 instruction as llvm-objdump prints it, with the facts the checker judges by.
/// The A64 load/store class is recognised by mnemonic: every instruction that reads or writes
/// memory is an ld*/st* form, an atomic (cas*, swp*, ld&lt;op&gt;/st&lt;op&gt;) or a prefetch
/// (the Arm ARM's A64 "Loads and stores" group); cache and TLB maintenance (dc, ic, at, tlbi, sys) is
/// reported separately. Anything llvm-objdump cannot decode is undecodable, never assumed harmless.
/// </summary>
public sealed partial record Arm64Instruction(ulong Address, string Mnemonic, string Operands)
{
    public string Text => Operands.Length == 0 ? Mnemonic : $"{Mnemonic} {Operands}";

    /// <summary>"&lt;unknown&gt;" encodings, and data (.word) inside the function.</summary>
    public bool IsUndecodable => Mnemonic == "<unknown>" || Mnemonic.StartsWith('.');

    public bool IsReturn => Mnemonic is "ret" or "retaa" or "retab";

    /// <summary>Anything that can leave the straight line: branches, calls, traps, exception returns.</summary>
    public bool IsOtherControlFlow => !IsReturn && (Mnemonic.StartsWith("b.", StringComparison.Ordinal)
        || Mnemonic.StartsWith("bc.", StringComparison.Ordinal) || BranchMnemonic().IsMatch(Mnemonic));

    /// <summary>Cache, TLB and address-translation operations: they act on the memory system.</summary>
    public bool IsMemorySystemOperation => Mnemonic is "dc" or "ic" or "at" or "tlbi" or "sys" or "sysl";

    /// <summary>"b 0x40203d34 &lt;port_io_unsupported&gt;": the symbol llvm-objdump names as the target.</summary>
    public string? BranchTarget => Mnemonic is "b" or "bl" && SymbolicTarget().Match(Operands) is { Success: true } m
        ? m.Groups[1].Value
        : null;

    /// <summary>Null unless this is a load/store class instruction.</summary>
    public Arm64MemoryAccess? Access => IsLoadStore ? Describe() : null;

    /// <summary>ldr/ldrb/ldrh/str/strb/strh with a general register: one access, with no ordering or exclusivity of its own.</summary>
    public bool IsPlainLoadStore => Mnemonic is "ldr" or "ldrb" or "ldrh" or "str" or "strb" or "strh"
        && DataRegister() is ['w' or 'x', ..];

    private bool IsLoadStore => !IsUndecodable && (Mnemonic.StartsWith("ld", StringComparison.Ordinal)
        || Mnemonic.StartsWith("st", StringComparison.Ordinal) || Mnemonic.StartsWith("cas", StringComparison.Ordinal)
        || Mnemonic.StartsWith("swp", StringComparison.Ordinal) || Mnemonic.StartsWith("prf", StringComparison.Ordinal));

    private string Direction() =>
        Mnemonic.StartsWith("prf", StringComparison.Ordinal) ? "prefetch"
        : Mnemonic.StartsWith("cas", StringComparison.Ordinal) || Mnemonic.StartsWith("swp", StringComparison.Ordinal) || AtomicOp().IsMatch(Mnemonic) ? "read-modify-write"
        : Mnemonic.StartsWith("ld", StringComparison.Ordinal) ? "load"
        : "store";

    private Arm64MemoryAccess Describe()
    {
        var (count, form) = (1, "single");
        if (PairMnemonic().IsMatch(Mnemonic))
        {
            (count, form) = (2, "pair");
        }
        else if (StructureMnemonic().IsMatch(Mnemonic) && Operands.IndexOf('}') is var end and > 0)
        {
            // ld1 { v0.4s, v1.4s }, [x0]: one access per register of the list.
            (count, form) = (Operands[..end].Split(',').Length, "register list");
        }
        return new(Direction(), count, form, Bits(), AddressOperand());
    }

    /// <summary>Width from the size suffix (b, h, sw) or else from the data register (w0 = 32, x0 = 64...).</summary>
    private int Bits()
    {
        if (Mnemonic.StartsWith("prf", StringComparison.Ordinal))
        {
            return 0;
        }
        if (Mnemonic.EndsWith("sw", StringComparison.Ordinal))
        {
            return 32;
        }
        if (Mnemonic.EndsWith('b'))
        {
            return 8;
        }
        if (Mnemonic.EndsWith('h'))
        {
            return 16;
        }
        return DataRegister() switch
        {
            ['b', ..] => 8,
            ['h', ..] => 16,
            ['w' or 's', ..] => 32,
            ['x' or 'd', ..] => 64,
            ['q', ..] => 128,
            _ => 0,
        };
    }

    /// <summary>The first register operand, or for stxr/stlxr(p) the second (the first is the status).</summary>
    private string DataRegister()
    {
        var registers = Operands.Split('[')[0].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var index = ExclusiveStore().IsMatch(Mnemonic) ? 1 : 0;
        return index < registers.Length ? registers[index].TrimStart('{', ' ') : "";
    }

    private string AddressOperand()
    {
        var open = Operands.IndexOf('[');
        return open < 0 ? "" : Operands[open..];
    }

    [GeneratedRegex(@"^(b|bl|br|blr|braaz?|brabz?|blraaz?|blrabz?|cbn?z|tbn?z|svc|hvc|smc|brk|hlt|udf|eret|eretaa|eretab|dcps[123])$")]
    private static partial Regex BranchMnemonic();

    [GeneratedRegex(@"<([^>+]+)>$")]
    private static partial Regex SymbolicTarget();

    [GeneratedRegex(@"^(ldp|stp|ldnp|stnp|ldpsw|ldxp|ldaxp|stxp|stlxp)$")]
    private static partial Regex PairMnemonic();

    [GeneratedRegex(@"^(ld|st)[1-4]r?$")]
    private static partial Regex StructureMnemonic();

    [GeneratedRegex(@"^st(l)?x(r|p)[bh]?$")]
    private static partial Regex ExclusiveStore();

    [GeneratedRegex(@"^(ld|st)(add|clr|eor|set|smax|smin|umax|umin)(a|al|l)?[bh]?$")]
    private static partial Regex AtomicOp();
}
