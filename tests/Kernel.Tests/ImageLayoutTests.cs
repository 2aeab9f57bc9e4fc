using System.Diagnostics;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The linked kernels as the Makefile left them: the entropy copy's loops (Mem.forward,
// Mem.backward) each inside one 4 KiB page, since TCG chains no jump across a page and a loop
// that crosses one runs at about half speed (tools/link/hot-code-pad.sh; the Makefile links
// again with padding when ilc's placement would cross).
public class ImageLayoutTests
{
    [Theory]
    [InlineData("x86_64")]
    [InlineData("aarch64")]
    public void The_copy_loops_do_not_cross_a_page(string arch)
    {
        var nm = Process.Start(new ProcessStartInfo("llvm-nm", ["-S", Kernels.Path(TargetArchNames.Parse(arch))]) { RedirectStandardOutput = true })!;
        var symbols = nm.StandardOutput.ReadToEnd().Split('\n').Select(l => l.Split(' ')).Where(f => f.Length == 4).ToList();
        nm.WaitForExit();
        foreach (string name in new[] { "kernel_GuestOS_Drivers_Mem__forward", "kernel_GuestOS_Drivers_Mem__backward" })
        {
            var f = Assert.Single(symbols, f => f[3] == name);
            ulong start = Convert.ToUInt64(f[0], 16), size = Convert.ToUInt64(f[1], 16);
            Assert.True(size > 0 && start / 4096 == (start + size - 1) / 4096, $"{arch}: {name} at 0x{start:x}, {size} bytes, crosses a page");
        }
    }
}
