namespace GuestOS.AccessorCheck;

/// <summary>
/// Judges one aarch64 accessor's machine code (decoded by llvm-objdump) against its contract:
/// MMIO: exactly one memory access outside the stack, a plain ldr/str of the stated width and
/// direction at [x0] (no pair, no atomic, no acquire/release or exclusive form, no offset or
/// writeback), in straight-line code ending in ret. Ports: arm64 has none, so a port accessor
/// touches no memory and branches to port_io_unsupported, which panics.
/// </summary>
public static class Arm64AccessorInspector
{
    public const string PortPanic = "port_io_unsupported";

    public static AccessorFinding Inspect(Accessor accessor, IReadOnlyList<Arm64Instruction> code)
    {
        var problems = new List<string>();
        if (code.Count == 0)
        {
            problems.Add("no code");
        }
        foreach (var i in code.Where(i => i.IsUndecodable))
        {
            problems.Add($"undecodable '{i.Text}' at 0x{i.Address:x}");
        }
        foreach (var i in code.Where(i => i.IsMemorySystemOperation))
        {
            problems.Add($"'{i.Text}' is a cache/TLB operation: an accessor makes its one access and nothing else");
        }
        var found = code.Count == 0 ? "(no code)"
            : accessor.IsPort ? CheckPort(accessor, code, problems)
            : CheckMmio(accessor, code, problems);
        return new AccessorFinding(accessor, found, problems, string.Join("; ", code.Select(i => i.Text)));
    }

    private static string CheckMmio(Accessor accessor, IReadOnlyList<Arm64Instruction> code, List<string> problems)
    {
        foreach (var i in code.Where(i => i.IsOtherControlFlow))
        {
            problems.Add($"'{i.Text}' leaves the straight line: an accessor may only fall through to its ret");
        }
        if (!code[^1].IsReturn)
        {
            problems.Add($"does not end in ret (ends in '{code[^1].Text}'), so it runs into whatever follows");
        }

        var accesses = DeviceAccesses(code);
        var count = accesses.Sum(a => a.Access.Count);
        if (count != 1)
        {
            var culprits = string.Join("; ", accesses.Select(a => a.Access.Count > 1
                ? $"{a.Instruction.Text} (a {a.Access.Form}: {a.Access.Count} accesses)"
                : a.Instruction.Text));
            problems.Add(count == 0 ? "no memory access at all" : $"{count} memory accesses ({culprits}), expected exactly 1");
            return count == 0 ? "(no access)" : culprits;
        }

        var (instruction, access) = accesses[0];
        var expected = accessor.Reads ? "load" : "store";
        if (access.Direction != expected)
        {
            problems.Add($"is a {access.Direction}; {accessor.Name} must {expected}");
        }
        if (access.Bits != accessor.WidthBits)
        {
            problems.Add($"accesses {access.Bits} bits, {accessor.Name} must access {accessor.WidthBits}");
        }
        if (access.Address != "[x0]")
        {
            problems.Add("address is not [x0]: the address argument arrives in x0 and must be used as is (no offset, no writeback)");
        }
        if (!instruction.IsPlainLoadStore)
        {
            problems.Add($"'{instruction.Text}' is not a plain ldr/str: {accessor.Name} must be '{PlainForm(accessor)}' "
                + "(no acquire/release, exclusive, unscaled, unprivileged, sign-extending or SIMD form)");
        }
        return $"{instruction.Text}  (1 {access.Direction}, {access.Bits}-bit)";
    }

    private static string CheckPort(Accessor accessor, IReadOnlyList<Arm64Instruction> code, List<string> problems)
    {
        foreach (var (instruction, _) in DeviceAccesses(code))
        {
            problems.Add($"'{instruction.Text}' accesses memory inside a port accessor (arm64 has no I/O ports)");
        }
        foreach (var i in code.SkipLast(1).Where(i => i.IsOtherControlFlow || i.IsReturn))
        {
            problems.Add($"'{i.Text}' leaves the straight line before the branch to {PortPanic}");
        }
        if (code[^1].Mnemonic != "b" || code[^1].BranchTarget != PortPanic)
        {
            problems.Add($"does not end in 'b {PortPanic}' (ends in '{code[^1].Text}'): arm64 has no I/O ports, so {accessor.Name} must panic");
            return "(no panic)";
        }
        return $"b {PortPanic}  (arm64 has no I/O ports: panics)";
    }

    /// <summary>The load/store instructions that do not address the stack (spills around the access are allowed).</summary>
    private static List<(Arm64Instruction Instruction, Arm64MemoryAccess Access)> DeviceAccesses(IReadOnlyList<Arm64Instruction> code) =>
        code.Where(i => i.Access is { IsStack: false }).Select(i => (i, i.Access!)).ToList();

    /// <summary>"ldrb w0, [x0]", "str x1, [x0]": what the accessor should be (AAPCS64: address x0, value x1, result x0).</summary>
    public static string PlainForm(Accessor accessor)
    {
        var suffix = accessor.WidthBits switch { 8 => "b", 16 => "h", _ => "" };
        var register = accessor.WidthBits == 64 ? "x" : "w";
        return accessor.Reads ? $"ldr{suffix} {register}0, [x0]" : $"str{suffix} {register}1, [x0]";
    }
}
