using System.Text;

namespace GuestOS.Tools.Tests.Support;

/// <summary>
/// Writes an io.S with the fourteen accessors (correct bodies by default, any of them replaced
/// or left out), assembles and links it, like the kernel's boot/x86_64/io.S would be.
/// </summary>
public static class AccessorSource
{
    /// <summary>One correct body per accessor: SysV ABI, address/port in rdi/di, value in rsi/si.</summary>
    public static Dictionary<string, string> CorrectBodies() => new()
    {
        ["ioread8"] = "movzbl (%rdi), %eax",
        ["ioread16"] = "movzwl (%rdi), %eax",
        ["ioread32"] = "movl (%rdi), %eax",
        ["ioread64"] = "movq (%rdi), %rax",
        ["iowrite8"] = "movb %sil, (%rdi)",
        ["iowrite16"] = "movw %si, (%rdi)",
        ["iowrite32"] = "movl %esi, (%rdi)",
        ["iowrite64"] = "movq %rsi, (%rdi)",
        ["inb"] = "movw %di, %dx\n    inb %dx, %al",
        ["inw"] = "movw %di, %dx\n    inw %dx, %ax",
        ["inl"] = "movw %di, %dx\n    inl %dx, %eax",
        ["outb"] = "movw %di, %dx\n    movl %esi, %eax\n    outb %al, %dx",
        ["outw"] = "movw %di, %dx\n    movl %esi, %eax\n    outw %ax, %dx",
        ["outl"] = "movw %di, %dx\n    movl %esi, %eax\n    outl %eax, %dx",
    };

    /// <summary>
    /// The assembly text. Each body gets "ret" appended unless <paramref name="noRet"/> names it;
    /// <paramref name="noSize"/> / <paramref name="noType"/> drop that symbol's .size / .type.
    /// </summary>
    public static string Render(IReadOnlyDictionary<string, string> bodies, string? noRet = null, string? noSize = null, string? noType = null)
    {
        var sb = new StringBuilder("    .text\n");
        foreach (var (name, body) in bodies)
        {
            sb.Append($"    .globl {name}\n");
            if (name != noType)
            {
                sb.Append($"    .type {name}, @function\n");
            }
            sb.Append($"{name}:\n    {body}\n");
            if (name != noRet)
            {
                sb.Append("    ret\n");
            }
            if (name != noSize)
            {
                sb.Append($"    .size {name}, . - {name}\n");
            }
        }
        // An entry point, so that ld.lld has one; it also keeps the accessors off offset 0.
        return sb.Append("    .globl _start\n_start:\n    hlt\n").ToString();
    }

    /// <summary>Assembles and links <paramref name="source"/>; returns the ELF path.</summary>
    public static string Build(TempDirectory directory, string source, bool strip = false)
    {
        var assembly = directory.File("io.S");
        File.WriteAllText(assembly, source);
        var objectFile = directory.File("io.o");
        var elf = directory.File("io.elf");
        Toolchain.Assemble(Toolchain.X86Target, assembly, objectFile, directory.Path, []);
        Toolchain.Link(objectFile, elf, strip ? ["--strip-all"] : []);
        return elf;
    }
}
