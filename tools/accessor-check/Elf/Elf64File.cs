using System.Buffers.Binary;
using System.Text;

namespace GuestOS.AccessorCheck.Elf;

/// <summary>
/// A minimal little-endian ELF64 reader: section headers, the symbol table, and the file bytes
/// behind a symbol. Enough to find a function's machine code in a linked kernel or an object
/// file. Field offsets follow the System V gABI (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym).
/// </summary>
public sealed class Elf64File
{
    public const ushort MachineX86_64 = 62; // EM_X86_64
    public const ushort MachineAarch64 = 183; // EM_AARCH64

    private readonly byte[] _bytes;

    public ushort Machine { get; }

    /// <summary>The file it was loaded from; null when parsed from bytes.</summary>
    public string? Path { get; private init; }

    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>The symbols of .symtab (empty when the file was stripped).</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    private Elf64File(byte[] bytes)
    {
        _bytes = bytes;
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F')
        {
            throw new ElfFormatException("not an ELF file");
        }
        if (bytes[4] != 2)
        {
            throw new ElfFormatException("not ELF64 (EI_CLASS is not ELFCLASS64)");
        }
        if (bytes[5] != 1)
        {
            throw new ElfFormatException("not little-endian (EI_DATA is not ELFDATA2LSB)");
        }
        Machine = U16(0x12);
        Sections = ReadSections();
        Symbols = ReadSymbols();
    }

    public static Elf64File Load(string path) => new(File.ReadAllBytes(path)) { Path = path };

    public static Elf64File Parse(byte[] bytes) => new(bytes);

    /// <summary>
    /// The bytes a function symbol covers, found through its section: the section's file offset
    /// plus the symbol's distance from the section start. That holds for linked files (section
    /// address = load address) and for object files (address 0, value = offset in section).
    /// </summary>
    public ReadOnlySpan<byte> BytesOf(ElfSymbol symbol)
    {
        var section = SectionOf(symbol);
        if (section.Type == ElfSection.TypeNoBits)
        {
            throw new ElfFormatException($"{symbol.Name} lies in {section.Name}, which has no bytes in the file");
        }
        if (!section.Contains(symbol.Value, symbol.Size))
        {
            throw new ElfFormatException($"{symbol.Name} (0x{symbol.Value:x}, {symbol.Size} bytes) does not fit in {section.Name}");
        }
        var offset = section.FileOffset + (symbol.Value - section.Address);
        return Slice(offset, symbol.Size);
    }

    public ElfSection SectionOf(ElfSymbol symbol) =>
        symbol.IsInRealSection && symbol.SectionIndex < Sections.Count
            ? Sections[symbol.SectionIndex]
            : throw new ElfFormatException($"{symbol.Name} is not defined in any section (index {symbol.SectionIndex})");

    private List<ElfSection> ReadSections()
    {
        var tableOffset = U64(0x28);   // e_shoff
        var entrySize = U16(0x3A);     // e_shentsize
        var count = U16(0x3C);         // e_shnum
        var namesIndex = U16(0x3E);    // e_shstrndx
        if (count == 0 || tableOffset == 0)
        {
            throw new ElfFormatException("no section headers");
        }
        if (entrySize < 64)
        {
            throw new ElfFormatException($"section header entries are {entrySize} bytes, expected 64");
        }

        var raw = new List<(uint NameOffset, ElfSection Section)>(count);
        for (var i = 0; i < count; i++)
        {
            var at = tableOffset + (ulong)i * entrySize;
            Slice(at, 64); // bounds check the whole entry once
            raw.Add((U32(at), new ElfSection(
                Name: "",
                Type: U32(at + 4),
                Flags: U64(at + 8),
                Address: U64(at + 16),
                FileOffset: U64(at + 24),
                Size: U64(at + 32),
                Link: U32(at + 40))));
        }
        if (namesIndex >= count)
        {
            throw new ElfFormatException("section name table index out of range");
        }
        var names = raw[namesIndex].Section;
        return raw.Select(r => r.Section with { Name = StringAt(names, r.NameOffset) }).ToList();
    }

    private List<ElfSymbol> ReadSymbols()
    {
        var table = Sections.FirstOrDefault(s => s.Type == ElfSection.TypeSymbolTable);
        if (table is null)
        {
            return [];
        }
        if (table.Link >= Sections.Count)
        {
            throw new ElfFormatException(".symtab links to a missing string table");
        }
        var strings = Sections[(int)table.Link];
        const int entrySize = 24;
        var symbols = new List<ElfSymbol>();
        for (ulong at = table.FileOffset; at + entrySize <= table.FileOffset + table.Size; at += entrySize)
        {
            Slice(at, entrySize);
            symbols.Add(new ElfSymbol(
                Name: StringAt(strings, U32(at)),
                Info: _bytes[at + 4],
                SectionIndex: U16(at + 6),
                Value: U64(at + 8),
                Size: U64(at + 16)));
        }
        return symbols;
    }

    private string StringAt(ElfSection table, uint offset)
    {
        if (offset >= table.Size)
        {
            throw new ElfFormatException($"string offset {offset} is outside {table.Name}");
        }
        var start = checked((int)(table.FileOffset + offset));
        var limit = checked((int)(table.FileOffset + table.Size));
        var end = Array.IndexOf(_bytes, (byte)0, start, limit - start);
        return Encoding.UTF8.GetString(_bytes, start, (end < 0 ? limit : end) - start);
    }

    private ReadOnlySpan<byte> Slice(ulong offset, ulong length)
    {
        if (offset > (ulong)_bytes.Length || length > (ulong)_bytes.Length - offset)
        {
            throw new ElfFormatException($"truncated file: needs bytes 0x{offset:x}..0x{offset + length:x}, has 0x{_bytes.Length:x}");
        }
        return _bytes.AsSpan((int)offset, (int)length);
    }

    private ushort U16(ulong at) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(at, 2));

    private uint U32(ulong at) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(at, 4));

    private ulong U64(ulong at) => BinaryPrimitives.ReadUInt64LittleEndian(Slice(at, 8));
}
