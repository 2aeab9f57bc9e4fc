namespace GuestOS.AccessorCheck.Elf;

/// <summary>The file is not an ELF64 we can read (wrong magic, truncated, no symbol table...).</summary>
public sealed class ElfFormatException(string message) : Exception(message);
