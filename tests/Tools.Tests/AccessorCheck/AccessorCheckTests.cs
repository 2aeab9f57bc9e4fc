using GuestOS.AccessorCheck;
using GuestOS.AccessorCheck.Elf;
using GuestOS.Tools.Tests.Support;

namespace GuestOS.Tools.Tests.AccessorCheck;

/// <summary>
/// The checker against x86_64 ELF files assembled at test time: the correct set must pass, and every
/// deliberately broken variant must fail on exactly the accessor that was broken, for the
/// stated reason, so the check can pass neither vacuously nor by accident.
/// </summary>
public sealed class AccessorCheckTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private AccessorReport CheckSource(string source) => AccessorChecker.Check(AccessorSource.X86.Build(_temp, source));

    private AccessorReport CheckWith(string name, string body) => CheckSource(AccessorSource.X86.RenderWith(name, body));

    /// <summary>The report fails, on <paramref name="name"/> alone, with a problem mentioning <paramref name="problem"/>.</summary>
    private static void AssertOnlyBroken(AccessorReport report, string name, string problem)
    {
        Assert.False(report.Passed);
        var failure = Assert.Single(report.Failures);
        Assert.Equal(name, failure.Accessor.Name);
        Assert.Contains(failure.Problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void The_correct_set_passes_and_every_accessor_was_actually_inspected()
    {
        var report = CheckSource(AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies()));

        Assert.True(report.Passed, string.Join("\n", report.Findings));
        Assert.Equal(Accessor.Set.Select(a => a.Name), report.Findings.Select(f => f.Accessor.Name));
        Assert.Equal("ioread32   ok    mov eax,[rdi]  (1 load, 32-bit)", report.Findings.Single(f => f.Accessor.Name == "ioread32").ToString());
        Assert.Equal("iowrite8   ok    mov [rdi],sil  (1 store, 8-bit)", report.Findings.Single(f => f.Accessor.Name == "iowrite8").ToString());
        Assert.Equal("outl       ok    out dx,eax  (1 port write, 32-bit)", report.Findings.Single(f => f.Accessor.Name == "outl").ToString());
    }

    [Theory]
    // Two accesses where one is promised.
    [InlineData("ioread32", "movl (%rdi), %eax\n    movl (%rdi), %eax", "2 memory accesses")]
    [InlineData("outw", "movw %di, %dx\n    movl %esi, %eax\n    outw %ax, %dx\n    outw %ax, %dx", "2 port accesses")]
    // Narrower and wider than stated.
    [InlineData("iowrite32", "movw %si, (%rdi)", "accesses 16 bits, iowrite32 must access 32")]
    [InlineData("ioread16", "movl (%rdi), %eax", "accesses 32 bits, ioread16 must access 16")]
    [InlineData("inl", "movw %di, %dx\n    inw %dx, %ax", "moves 16 bits, inl must move 32")]
    // Wrong direction.
    [InlineData("iowrite64", "movq (%rdi), %rsi", "is a load; iowrite64 must store")]
    [InlineData("ioread8", "movb %al, (%rdi)", "is a store; ioread8 must load")]
    [InlineData("outb", "movw %di, %dx\n    inb %dx, %al", "is in; outb must use out")]
    // A read-modify-write is two accesses in one instruction.
    [InlineData("iowrite32", "orl %esi, (%rdi)", "read-modify-write")]
    // Right width, wrong place.
    [InlineData("ioread8", "movzbl 4(%rdi), %eax", "address is not [rdi]")]
    [InlineData("inb", "inb $0x80, %al", "the port is not dx")]
    // Extra memory traffic or control flow around the access.
    [InlineData("inb", "movw %di, %dx\n    inb %dx, %al\n    movb %al, (%rsi)", "accesses memory inside a port accessor")]
    [InlineData("ioread64", "movq (%rdi), %rax\n    movq %rax, (%rsi)", "2 memory accesses")]
    [InlineData("ioread32", "jmp 1f\n1:  movl (%rdi), %eax", "leaves the straight line")]
    [InlineData("iowrite16", "movw %si, (%rdi)\n    inw %dx, %ax", "port I/O inside an MMIO accessor")]
    public void A_broken_accessor_fails_the_check_for_the_right_reason(string name, string body, string problem)
    {
        AssertOnlyBroken(CheckWith(name, body), name, problem);
    }

    [Fact]
    public void Stack_operations_around_the_single_access_are_allowed()
    {
        var report = CheckWith("ioread32", "pushq %rbx\n    movl (%rdi), %eax\n    popq %rbx");

        Assert.True(report.Passed, string.Join("\n", report.Findings));
    }

    [Fact]
    public void A_missing_accessor_fails_the_check()
    {
        var bodies = AccessorSource.X86.CorrectBodies();
        bodies.Remove("inw");

        AssertOnlyBroken(CheckSource(AccessorSource.X86.Render(bodies)), "inw", "not defined");
    }

    [Fact]
    public void An_accessor_without_ret_fails_because_it_runs_into_the_next_function()
    {
        AssertOnlyBroken(CheckSource(AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies(), noRet: "iowrite8")), "iowrite8", "does not end in ret");
    }

    [Fact]
    public void Symbols_without_size_or_function_type_fail_with_the_directive_to_add()
    {
        AssertOnlyBroken(CheckSource(AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies(), noSize: "ioread16")), "ioread16", ".size ioread16");
        AssertOnlyBroken(CheckSource(AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies(), noType: "outw")), "outw", ".type outw, @function");
    }

    [Fact]
    public void A_stripped_kernel_cannot_be_checked()
    {
        var elf = AccessorSource.X86.Build(_temp, AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies()), strip: true);

        var error = Assert.Throws<ElfFormatException>(() => AccessorChecker.Check(elf));
        Assert.Contains("no .symtab", error.Message);
    }

    [Fact]
    public void The_symbol_bytes_are_found_through_their_section_in_linked_and_object_files()
    {
        var elfPath = AccessorSource.X86.Build(_temp, AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies()));
        var elf = Elf64File.Load(elfPath);
        var obj = Elf64File.Load(_temp.File("io.o"));

        // movl (%rdi), %eax = 8b 07; ret = c3. Linked: a real load address; object: offset in .text.
        var linked = elf.Symbols.Single(s => s.Name == "ioread32");
        Assert.NotEqual(0UL, linked.Value);
        Assert.Equal(new byte[] { 0x8B, 0x07, 0xC3 }, elf.BytesOf(linked).ToArray());
        Assert.Equal(new byte[] { 0x8B, 0x07, 0xC3 }, obj.BytesOf(obj.Symbols.Single(s => s.Name == "ioread32")).ToArray());
        Assert.Equal(".text", elf.SectionOf(linked).Name);
    }

    [Fact]
    public void The_CLI_exits_0_on_a_good_kernel_1_on_a_bad_one_and_2_on_bad_usage()
    {
        var good = AccessorSource.X86.Build(_temp, AccessorSource.X86.Render(AccessorSource.X86.CorrectBodies()));
        var stdout = new StringWriter();
        Assert.Equal(0, AccessorCheckCli.Run([good], stdout, TextWriter.Null));
        Assert.Contains("ioread32   ok    mov eax,[rdi]  (1 load, 32-bit)", stdout.ToString());
        Assert.Contains("accessor-check: PASS (14 accessors", stdout.ToString());

        var bad = AccessorSource.X86.Build(_temp, AccessorSource.X86.RenderWith("inl", "movw %di, %dx\n    inb %dx, %al"));
        stdout = new StringWriter();
        Assert.Equal(1, AccessorCheckCli.Run([bad], stdout, TextWriter.Null));
        Assert.Contains("accessor-check: FAIL (1 of 14 accessors broken)", stdout.ToString());

        Assert.Equal(1, AccessorCheckCli.Run([_temp.File("missing.elf")], TextWriter.Null, TextWriter.Null));
        Assert.Equal(1, AccessorCheckCli.Run([_temp.File("io.S")], TextWriter.Null, TextWriter.Null)); // not an ELF
        Assert.Equal(2, AccessorCheckCli.Run([], TextWriter.Null, TextWriter.Null));
    }
}
