using Iced.Intel;

namespace GuestOS.AccessorCheck;

/// <summary>
/// Judges one x86_64 accessor's machine code (decoded by Iced) against its contract:
/// MMIO: exactly one memory access outside the stack, at [rdi], of the stated width and
/// direction, and no port I/O; ports: exactly one in/out through dx with the stated width and
/// direction, and no memory access outside the stack. Both: straight-line code ending in ret.
/// </summary>
public static class X86AccessorInspector
{
    public static AccessorFinding Inspect(Accessor accessor, IReadOnlyList<DecodedInstruction> code)
    {
        var problems = new List<string>();
        CheckShape(code, problems);
        var found = accessor.IsPort ? CheckPort(accessor, code, problems) : CheckMmio(accessor, code, problems);
        return new AccessorFinding(accessor, found, problems, string.Join("; ", code.Select(i => i.Text)));
    }

    /// <summary>Every instruction decodes, nothing branches away, and the last one returns.</summary>
    private static void CheckShape(IReadOnlyList<DecodedInstruction> code, List<string> problems)
    {
        if (code.Count == 0)
        {
            problems.Add("no code");
            return;
        }
        foreach (var i in code.Where(i => i.IsInvalid))
        {
            problems.Add($"undecodable bytes at 0x{i.Instruction.IP:x}");
        }
        foreach (var i in code.Where(i => i.IsOtherControlFlow))
        {
            problems.Add($"'{i}' leaves the straight line: an accessor may only fall through to its ret");
        }
        if (!code[^1].IsReturn)
        {
            problems.Add($"does not end in ret (ends in '{code[^1]}'), so it runs into whatever follows");
        }
    }

    private static string CheckMmio(Accessor accessor, IReadOnlyList<DecodedInstruction> code, List<string> problems)
    {
        foreach (var i in code.Where(i => i.IsPortIo || i.IsStringPortIo))
        {
            problems.Add($"'{i}' is port I/O inside an MMIO accessor");
        }

        var accesses = code.SelectMany(i => i.DeviceAccesses.Select(m => (Instruction: i, Memory: m))).ToList();
        if (accesses.Count != 1)
        {
            // One instruction can access twice (movs, a read-modify-write): list each instruction once.
            var culprits = string.Join("; ", code.Where(i => i.DeviceAccesses.Count > 0).Select(i => i.Text));
            problems.Add(accesses.Count == 0
                ? "no memory access at all"
                : $"{accesses.Count} memory accesses ({culprits}), expected exactly 1");
            return accesses.Count == 0 ? "(no access)" : culprits;
        }

        var (instruction, memory) = accesses[0];
        var bits = memory.MemorySize.GetSize() * 8;
        var direction = memory.Access switch
        {
            OpAccess.Read => "load",
            OpAccess.Write => "store",
            OpAccess.ReadWrite or OpAccess.ReadCondWrite => "read-modify-write",
            _ => $"conditional access ({memory.Access})",
        };
        var expected = accessor.Reads ? "load" : "store";
        if (direction != expected)
        {
            problems.Add($"is a {direction}; {accessor.Name} must {expected}");
        }
        if (bits != accessor.WidthBits)
        {
            problems.Add($"accesses {bits} bits, {accessor.Name} must access {accessor.WidthBits}");
        }
        if (memory.Base != Register.RDI || memory.Index != Register.None || memory.Displacement != 0
            || memory.Segment is not (Register.DS or Register.None))
        {
            problems.Add($"address is not [rdi]: the address argument arrives in rdi and must be used as is");
        }
        return $"{instruction.Text}  (1 {direction}, {bits}-bit)";
    }

    private static string CheckPort(Accessor accessor, IReadOnlyList<DecodedInstruction> code, List<string> problems)
    {
        foreach (var i in code.Where(i => i.IsStringPortIo))
        {
            problems.Add($"'{i}' is string port I/O (it also touches memory); use in/out");
        }
        foreach (var i in code.Where(i => i.DeviceAccesses.Count > 0 && !i.IsStringPortIo))
        {
            problems.Add($"'{i}' accesses memory inside a port accessor");
        }

        var ports = code.Where(i => i.IsPortIo).ToList();
        if (ports.Count != 1)
        {
            problems.Add(ports.Count == 0
                ? "no in/out instruction"
                : $"{ports.Count} port accesses ({string.Join("; ", ports.Select(p => p.Text))}), expected exactly 1");
            return ports.Count == 0 ? "(no port access)" : string.Join("; ", ports.Select(p => p.Text));
        }

        var io = ports[0].Instruction;
        var isIn = io.Mnemonic == Mnemonic.In;
        // in acc, port / out port, acc: the accumulator sets the width, the other operand the port.
        var accumulator = isIn ? io.Op0Register : io.Op1Register;
        var portOperand = isIn ? io.GetOpKind(1) : io.GetOpKind(0);
        var portRegister = isIn ? io.Op1Register : io.Op0Register;
        var bits = accumulator.GetSize() * 8;
        var direction = isIn ? "port read" : "port write";

        if (isIn != accessor.Reads)
        {
            problems.Add($"is {(isIn ? "in" : "out")}; {accessor.Name} must use {(accessor.Reads ? "in" : "out")}");
        }
        if (bits != accessor.WidthBits)
        {
            problems.Add($"moves {bits} bits, {accessor.Name} must move {accessor.WidthBits}");
        }
        if (portOperand != OpKind.Register || portRegister != Register.DX)
        {
            problems.Add("the port is not dx: the port argument arrives in di and must be moved to dx");
        }
        return $"{ports[0].Text}  (1 {direction}, {bits}-bit)";
    }
}
