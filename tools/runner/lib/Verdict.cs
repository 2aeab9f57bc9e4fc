namespace GuestOS.Runner;

/// <summary>
/// The kernel's final console line, "GUESTOS-VERDICT: PASS" or "GUESTOS-VERDICT: FAIL reason".
/// It is checked next to the exit status so that neither alone can make a run pass: a kernel
/// that exits PASS by accident (a stray port write) still has to have printed PASS.
/// </summary>
public sealed record Verdict(VerdictKind Kind, string? Reason)
{
    public const string Prefix = "GUESTOS-VERDICT: ";

    public static readonly Verdict Missing = new(VerdictKind.Missing, null);

    public bool IsPass => Kind == VerdictKind.Pass;

    /// <summary>The last verdict line wins: it is the final word of the kernel.</summary>
    public static Verdict FromLines(IEnumerable<ConsoleLine> lines)
    {
        var verdict = Missing;
        foreach (var line in lines)
        {
            if (Parse(line.Text) is { } found)
            {
                verdict = found;
            }
        }
        return verdict;
    }

    /// <summary>Reads one line; null when it is not a verdict line.</summary>
    public static Verdict? Parse(string line)
    {
        var text = line.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = text[Prefix.Length..].Trim();
        if (rest == "PASS")
        {
            return new Verdict(VerdictKind.Pass, null);
        }
        if (rest == "FAIL" || rest.StartsWith("FAIL ", StringComparison.Ordinal))
        {
            var reason = rest.Length > 4 ? rest[5..].Trim() : null;
            return new Verdict(VerdictKind.Fail, string.IsNullOrEmpty(reason) ? null : reason);
        }
        // Anything else after the prefix ("PASSED", "ok") is a malformed verdict: not a pass.
        return new Verdict(VerdictKind.Malformed, rest);
    }

    public override string ToString() => Kind switch
    {
        VerdictKind.Pass => "PASS",
        VerdictKind.Fail => Reason is null ? "FAIL" : $"FAIL {Reason}",
        VerdictKind.Malformed => $"malformed verdict '{Reason}'",
        _ => "no verdict line",
    };
}

public enum VerdictKind
{
    Missing,
    Pass,
    Fail,
    Malformed,
}
