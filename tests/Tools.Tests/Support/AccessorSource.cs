using System.Text;

namespace GuestOS.Tools.Tests.Support;

/// <summary>
/// Writes an io.S with the fourteen accessors for one architecture (correct bodies by default,
/// any of them replaced or left out), assembles and links it, like the kernel's
/// boot/&lt;arch&gt;/io.S would be.
/// </summary>
/// <param name="Target">clang's --target.</param>
/// <param name="Correct">One correct body per accessor, without the final ret.</param>
/// <param name="TailCalls">Accessors whose body ends the function itself (no ret appended).</param>
/// <param name="Epilogue">Code after the accessors: an entry point for ld.lld (it also keeps the accessors off offset 0).</param>
public sealed record AccessorSource(string Target, IReadOnlyDictionary<string, string> Correct, IReadOnlySet<string> TailCalls, string Epilogue)
{
    /// <summary>SysV ABI: address/port in rdi/di, value in rsi/si.</summary>
    public static readonly AccessorSource X86 = new(Toolchain.X86Target, new Dictionary<string, string>
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
    }, new HashSet<string>(), "    .globl _start\n_start:\n    hlt\n");

    /// <summary>AAPCS64: address in x0, value in x1, result in x0; no I/O ports, so those panic.</summary>
    public static readonly AccessorSource Aarch64 = new(Toolchain.Aarch64Target, new Dictionary<string, string>
    {
        ["ioread8"] = "ldrb w0, [x0]",
        ["ioread16"] = "ldrh w0, [x0]",
        ["ioread32"] = "ldr w0, [x0]",
        ["ioread64"] = "ldr x0, [x0]",
        ["iowrite8"] = "strb w1, [x0]",
        ["iowrite16"] = "strh w1, [x0]",
        ["iowrite32"] = "str w1, [x0]",
        ["iowrite64"] = "str x1, [x0]",
        ["inb"] = "b port_io_unsupported",
        ["inw"] = "b port_io_unsupported",
        ["inl"] = "b port_io_unsupported",
        ["outb"] = "b port_io_unsupported",
        ["outw"] = "b port_io_unsupported",
        ["outl"] = "b port_io_unsupported",
    }, new HashSet<string> { "inb", "inw", "inl", "outb", "outw", "outl" },
        "    .globl _start\n_start:\n    b .\n    .globl port_io_unsupported\n    .type port_io_unsupported, @function\nport_io_unsupported:\n    b .\n");

    /// <summary>A fresh copy of the correct bodies, to break one of.</summary>
    public Dictionary<string, string> CorrectBodies() => new(Correct);

    /// <summary>
    /// The assembly text. Each body gets "ret" appended unless it is a tail call or
    /// <paramref name="noRet"/> names it; <paramref name="noSize"/> / <paramref name="noType"/>
    /// drop that symbol's .size / .type.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, string> bodies, string? noRet = null, string? noSize = null, string? noType = null)
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
            if (name != noRet && !TailCalls.Contains(name))
            {
                sb.Append("    ret\n");
            }
            if (name != noSize)
            {
                sb.Append($"    .size {name}, . - {name}\n");
            }
        }
        return sb.Append(Epilogue).ToString();
    }

    /// <summary>The correct set with <paramref name="name"/>'s body replaced.</summary>
    public string RenderWith(string name, string body)
    {
        var bodies = CorrectBodies();
        bodies[name] = body;
        return Render(bodies);
    }

    /// <summary>Assembles and links <paramref name="source"/>; returns the ELF path.</summary>
    public string Build(TempDirectory directory, string source, bool strip = false)
    {
        var assembly = directory.File("io.S");
        File.WriteAllText(assembly, source);
        var objectFile = directory.File("io.o");
        var elf = directory.File("io.elf");
        Toolchain.Assemble(Target, assembly, objectFile, directory.Path, []);
        Toolchain.Link(objectFile, elf, strip ? ["--strip-all"] : []);
        return elf;
    }
}
