namespace GuestOS.AccessorCheck.Elf;

/// <summary>One section header (Elf64_Shdr), keeping only what locating code bytes needs.</summary>
public sealed record ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong FileOffset, ulong Size, uint Link)
{
    public const uint TypeSymbolTable = 2;  // SHT_SYMTAB
    public const uint TypeNoBits = 8;       // SHT_NOBITS: occupies memory, not file (.bss)
    public const ulong FlagExecutable = 0x4; // SHF_EXECINSTR

    public bool IsExecutable => (Flags & FlagExecutable) != 0;

    public bool Contains(ulong address, ulong size) => address >= Address && address + size <= Address + Size;
}
