namespace GuestOS.AccessorCheck.Elf;

/// <summary>One symbol table entry (Elf64_Sym).</summary>
public sealed record ElfSymbol(string Name, byte Info, ushort SectionIndex, ulong Value, ulong Size)
{
    public const byte TypeFunction = 2; // STT_FUNC
    public const byte BindingLocal = 0;  // STB_LOCAL
    public const byte BindingGlobal = 1; // STB_GLOBAL
    public const byte BindingWeak = 2;   // STB_WEAK

    /// <summary>SHN_UNDEF, and the reserved range (SHN_ABS, SHN_COMMON...) that names no real section.</summary>
    public bool IsInRealSection => SectionIndex != 0 && SectionIndex < 0xFF00;

    public byte Type => (byte)(Info & 0xF);

    public byte Binding => (byte)(Info >> 4);

    public bool IsFunction => Type == TypeFunction;

    public bool IsGlobal => Binding is BindingGlobal or BindingWeak;
}
