using System.Diagnostics;
using GuestOS.Tools.Tests.Support;

namespace GuestOS.Tools.Tests.Link;

/// <summary>
/// tools/link/hot-code-pad.sh, which the kernel link asks how far to move the managed code so
/// that each hot loop stays inside one 4 KiB page (TCG chains no jump across a page). Fed
/// `llvm-nm -S` lines as the Makefile feeds it; the built kernels themselves are checked in
/// Kernel.Tests' ImageLayoutTests.
/// </summary>
public sealed class HotCodePadTests
{
    private static (int Exit, string Out, string Err) Pad(string nm, params string[] symbols)
    {
        var start = new ProcessStartInfo("sh", [Path.Combine(Repository.Root, "tools", "link", "hot-code-pad.sh"), .. symbols])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(start)!;
        p.StandardInput.Write(nm);
        p.StandardInput.Close();
        string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Trim(), error.Trim());
    }

    private static string Sym(ulong address, ulong size, string name) => $"{address:x16} {size:x16} t {name}\n";

    [Fact]
    public void Code_inside_its_pages_needs_no_padding()
        => Assert.Equal((0, "0", ""), Pad(Sym(0x4020c300, 0x8c, "fwd") + Sym(0x4020c3a0, 0xa0, "bwd"), "fwd", "bwd"));

    // The placement the throughput helper measured at half speed: Mem.forward across 0x4020c000.
    [Fact]
    public void A_loop_across_a_page_is_moved_by_the_smallest_multiple_of_64()
        => Assert.Equal((0, "64", ""), Pad(Sym(0x4020bfe0, 0x8c, "fwd"), "fwd"));

    // Moving one off a boundary must not push the other onto one: fwd (0x4020bfa0, 0x8c bytes)
    // crosses at 0 and 64 bytes of padding and is clear from 128; bwd (0x4020cf40, 0xa0) is clear
    // up to 64 and crosses at 128; at 192 both are inside a page.
    [Fact]
    public void Every_hot_symbol_is_kept_inside_a_page_at_once()
    {
        var (exit, pad, _) = Pad(Sym(0x4020bfa0, 0x8c, "fwd") + Sym(0x4020cf40, 0xa0, "bwd"), "fwd", "bwd");
        Assert.Equal(0, exit);
        ulong p = ulong.Parse(pad);
        foreach (var (a, size) in new[] { (0x4020bfa0UL, 0x8cUL), (0x4020cf40UL, 0xa0UL) })
            Assert.Equal((a + p) / 4096, (a + p + size - 1) / 4096);
        Assert.Equal(192UL, p);
    }

    [Theory]
    [InlineData("", "nope", "hot-code-pad: nope is not in the kernel")]
    [InlineData("0000000000100000 0000000000001001 t big\n", "big", "hot-code-pad: big is 4097 bytes, more than a page")]
    public void What_cannot_be_placed_is_refused_by_name(string nm, string symbol, string message)
    {
        var (exit, _, error) = Pad(nm, symbol);
        Assert.Equal(1, exit);
        Assert.Equal(message, error);
    }

    // llvm-nm also lists the methods' unwind data under the same name with a prefix: not the code.
    [Fact]
    public void Only_the_symbol_itself_counts_not_its_unwind_data()
        => Assert.Equal((0, "0", ""), Pad("0000000000000a39 0000000000000000 n _lsda0fwd\n" + Sym(0x4020c300, 0x8c, "fwd"), "fwd"));
}
