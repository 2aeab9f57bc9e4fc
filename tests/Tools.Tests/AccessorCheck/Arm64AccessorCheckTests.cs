using GuestOS.AccessorCheck;
using GuestOS.Tools.Tests.Support;

namespace GuestOS.Tools.Tests.AccessorCheck;

/// <summary>
/// The checker against aarch64 ELF files assembled at test time (clang --target=aarch64-unknown-none)
/// and disassembled by llvm-objdump: the correct set (boot/aarch64/io.S's bodies) passes, and
/// each deliberately wrong accessor fails, alone, for the stated reason.
/// </summary>
public sealed class Arm64AccessorCheckTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private AccessorReport CheckSource(string source) => AccessorChecker.Check(AccessorSource.Aarch64.Build(_temp, source));

    private AccessorReport CheckWith(string name, string body) => CheckSource(AccessorSource.Aarch64.RenderWith(name, body));

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
        var report = CheckSource(AccessorSource.Aarch64.Render(AccessorSource.Aarch64.CorrectBodies()));

        Assert.True(report.Passed, string.Join("\n", report.Findings));
        Assert.Equal(Accessor.Set.Select(a => a.Name), report.Findings.Select(f => f.Accessor.Name));
        string Line(string name) => report.Findings.Single(f => f.Accessor.Name == name).ToString();
        Assert.Equal("ioread8    ok    ldrb w0, [x0]  (1 load, 8-bit)", Line("ioread8"));
        Assert.Equal("ioread64   ok    ldr x0, [x0]  (1 load, 64-bit)", Line("ioread64"));
        Assert.Equal("iowrite16  ok    strh w1, [x0]  (1 store, 16-bit)", Line("iowrite16"));
        Assert.Equal("iowrite32  ok    str w1, [x0]  (1 store, 32-bit)", Line("iowrite32"));
        Assert.Equal("outw       ok    b port_io_unsupported  (arm64 has no I/O ports: panics)", Line("outw"));
    }

    [Theory]
    // Narrower or wider than stated (a 64-bit register access to a 32-bit register, say).
    [InlineData("iowrite32", "strh w1, [x0]", "accesses 16 bits, iowrite32 must access 32")]
    [InlineData("ioread64", "ldr w0, [x0]", "accesses 32 bits, ioread64 must access 64")]
    [InlineData("ioread32", "ldr x0, [x0]", "accesses 64 bits, ioread32 must access 32")]
    [InlineData("ioread16", "ldrb w0, [x0]", "accesses 8 bits, ioread16 must access 16")]
    // Two accesses where one is promised: twice, or merged/split into a pair.
    [InlineData("ioread32", "ldr w0, [x0]\n    ldr w0, [x0]", "2 memory accesses")]
    [InlineData("ioread64", "ldp w0, w1, [x0]\n    orr x0, x0, x1, lsl #32", "ldp w0, w1, [x0] (a pair: 2 accesses)")]
    [InlineData("iowrite64", "lsr x2, x1, #32\n    stp w1, w2, [x0]", "2 memory accesses")]
    [InlineData("ioread64", "ld1 { v0.2s, v1.2s }, [x0]\n    fmov x0, d0", "a register list: 2 accesses")]
    [InlineData("ioread64", "ldr x0, [x0]\n    str x0, [x1]", "2 memory accesses")]
    // No access at all.
    [InlineData("iowrite8", "mov w2, w1", "no memory access at all")]
    // Wrong direction, or a read-modify-write (an atomic is two accesses in one instruction).
    [InlineData("iowrite64", "ldr x1, [x0]", "is a load; iowrite64 must store")]
    [InlineData("ioread8", "strb w0, [x0]", "is a store; ioread8 must load")]
    [InlineData("iowrite32", ".arch_extension lse\n    ldset w1, w2, [x0]", "is a read-modify-write; iowrite32 must store")]
    [InlineData("iowrite32", ".arch_extension lse\n    swp w1, w2, [x0]", "read-modify-write")]
    [InlineData("ioread32", "prfm pldl1keep, [x0]", "is a prefetch; ioread32 must load")]
    // Right width, wrong place: an offset, writeback, a register offset.
    [InlineData("ioread8", "ldrb w0, [x0, #4]", "address is not [x0]")]
    [InlineData("ioread32", "ldr w1, [x0], #4\n    mov w0, w1", "address is not [x0]")]
    [InlineData("iowrite16", "strh w1, [x0, x1]", "address is not [x0]")]
    // Right width and place, but not a plain ldr/str.
    [InlineData("ioread32", "ldar w0, [x0]", "'ldar w0, [x0]' is not a plain ldr/str: ioread32 must be 'ldr w0, [x0]'")]
    [InlineData("ioread16", "ldrsh w0, [x0]", "is not a plain ldr/str")]
    [InlineData("iowrite64", "stxr w2, x1, [x0]", "is not a plain ldr/str")]
    [InlineData("iowrite8", "sturb w1, [x0]", "is not a plain ldr/str: iowrite8 must be 'strb w1, [x0]'")]
    [InlineData("ioread32", "ldr s0, [x0]\n    fmov w0, s0", "is not a plain ldr/str")]
    // Control flow, cache maintenance or undecodable bytes around the access.
    [InlineData("ioread32", "b 1f\n1:  ldr w0, [x0]", "leaves the straight line")]
    [InlineData("iowrite32", "str w1, [x0]\n    dc civac, x0", "is a cache/TLB operation")]
    [InlineData("ioread32", "ldr w0, [x0]\n    .inst 0xffffffff", "undecodable")]
    // Ports: arm64 has none, so the accessor must panic and touch nothing.
    [InlineData("inb", "ldrb w0, [x0]\n    b port_io_unsupported", "accesses memory inside a port accessor")]
    [InlineData("outl", "mov w0, #0\n    ret", "does not end in 'b port_io_unsupported'")]
    [InlineData("inw", "b _start", "does not end in 'b port_io_unsupported'")]
    public void A_broken_accessor_fails_the_check_for_the_right_reason(string name, string body, string problem)
    {
        AssertOnlyBroken(CheckWith(name, body), name, problem);
    }

    [Fact]
    public void Stack_spills_around_the_single_access_are_allowed()
    {
        var report = CheckWith("ioread32", "stp x29, x30, [sp, #-16]!\n    ldr w0, [x0]\n    ldp x29, x30, [sp], #16");

        Assert.True(report.Passed, string.Join("\n", report.Findings));
    }

    [Fact]
    public void Accessors_without_size_or_ret_fail_with_the_directive_to_add()
    {
        // boot/aarch64/io.S had no .size directives: the check of the real kernel failed on all 14.
        AssertOnlyBroken(CheckSource(AccessorSource.Aarch64.Render(AccessorSource.Aarch64.CorrectBodies(), noSize: "iowrite16")),
            "iowrite16", ".size iowrite16");
        AssertOnlyBroken(CheckSource(AccessorSource.Aarch64.Render(AccessorSource.Aarch64.CorrectBodies(), noRet: "ioread8")),
            "ioread8", "does not end in ret");
    }

    [Fact]
    public void The_CLI_checks_an_aarch64_kernel_and_exits_1_when_an_accessor_is_wrong()
    {
        var good = AccessorSource.Aarch64.Build(_temp, AccessorSource.Aarch64.Render(AccessorSource.Aarch64.CorrectBodies()));
        var stdout = new StringWriter();
        Assert.Equal(0, AccessorCheckCli.Run([good], stdout, TextWriter.Null));
        Assert.Contains("ioread32   ok    ldr w0, [x0]  (1 load, 32-bit)", stdout.ToString());
        Assert.Contains("accessor-check: PASS (14 accessors", stdout.ToString());

        var bad = AccessorSource.Aarch64.Build(_temp, AccessorSource.Aarch64.RenderWith("iowrite64", "stp w1, w1, [x0]"));
        stdout = new StringWriter();
        Assert.Equal(1, AccessorCheckCli.Run([bad], stdout, TextWriter.Null));
        Assert.Contains("iowrite64  FAIL  stp w1, w1, [x0] (a pair: 2 accesses)", stdout.ToString());
        Assert.Contains("accessor-check: FAIL (1 of 14 accessors broken)", stdout.ToString());
    }
}
