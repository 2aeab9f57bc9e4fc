using Iced.Intel;

namespace GuestOS.AccessorCheck;

/// <summary>
/// One decoded instruction with the facts the checker judges by: which memory it really
/// touches (Iced's instruction info, so implicit accesses like push, ret and movs count too),
/// whether it is port I/O, and how it affects control flow.
/// </summary>
public sealed class DecodedInstruction
{
    private static readonly InstructionInfoFactory InfoFactory = new();

    public Instruction Instruction { get; }

    /// <summary>Accesses through the stack pointer: push, pop, ret, [rsp+n]. Allowed.</summary>
    public IReadOnlyList<UsedMemory> StackAccesses { get; }

    /// <summary>Every other real memory access: what an MMIO accessor must have exactly one of.</summary>
    public IReadOnlyList<UsedMemory> DeviceAccesses { get; }

    public string Text { get; }

    public DecodedInstruction(in Instruction instruction)
    {
        Instruction = instruction;
        var info = InfoFactory.GetInfo(instruction);
        // lea and friends name memory without touching it: NoMemAccess.
        var touched = info.GetUsedMemory().Where(m => m.Access is not (OpAccess.None or OpAccess.NoMemAccess)).ToList();
        StackAccesses = touched.Where(IsStack).ToList();
        DeviceAccesses = touched.Where(m => !IsStack(m)).ToList();
        Text = Format(instruction);
    }

    public bool IsInvalid => Instruction.Code == Code.INVALID;

    public bool IsReturn => Instruction.FlowControl == FlowControl.Return;

    /// <summary>Anything that can leave the straight line: jumps, calls, traps, interrupts.</summary>
    public bool IsOtherControlFlow => !IsReturn && Instruction.FlowControl != FlowControl.Next;

    /// <summary>in/out with a register operand; ins/outs are string forms that also touch memory.</summary>
    public bool IsPortIo => Instruction.Mnemonic is Mnemonic.In or Mnemonic.Out;

    public bool IsStringPortIo => Instruction.Mnemonic is Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd
        or Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd;

    public static IReadOnlyList<DecodedInstruction> DecodeAll(ReadOnlySpan<byte> code, ulong address)
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code.ToArray()), address);
        var end = address + (ulong)code.Length;
        var list = new List<DecodedInstruction>();
        while (decoder.IP < end)
        {
            decoder.Decode(out var instruction);
            list.Add(new DecodedInstruction(instruction));
        }
        return list;
    }

    private static bool IsStack(UsedMemory m) => m.Base is Register.RSP or Register.ESP;

    private static string Format(in Instruction instruction)
    {
        var output = new StringOutput();
        new IntelFormatter().Format(instruction, output);
        return output.ToStringAndReset();
    }

    public override string ToString() => Text;
}
