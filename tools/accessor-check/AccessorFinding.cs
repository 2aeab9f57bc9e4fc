namespace GuestOS.AccessorCheck;

/// <summary>The verdict on one accessor: what was found, and every rule it breaks.</summary>
public sealed record AccessorFinding(Accessor Accessor, string Found, IReadOnlyList<string> Problems, string? Disassembly = null)
{
    public bool Ok => Problems.Count == 0;

    /// <summary>"ioread32   ok    mov eax,[rdi]  (1 load, 32-bit)", problems indented below on failure.</summary>
    public override string ToString()
    {
        var head = $"{Accessor.Name,-10} {(Ok ? "ok" : "FAIL"),-5} {Found}";
        if (Ok)
        {
            return head;
        }
        var lines = new List<string> { head };
        lines.AddRange(Problems.Select(p => $"{"",-16} - {p}"));
        if (Disassembly is not null)
        {
            lines.Add($"{"",-16}   code: {Disassembly}");
        }
        return string.Join(Environment.NewLine, lines);
    }
}
