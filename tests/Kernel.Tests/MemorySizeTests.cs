using System.Text.RegularExpressions;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// Every machine across the RAM sizes people start QEMU with. The boot map covers one GiB (x86:
// the first; arm64: the kernel's); RAM beyond it must be reported and never touched, and the
// firmware's tables, which x86 firmware puts at the top of low RAM, must be mapped before they
// are read (a 1500 MiB q35 guest used to fault reading the RSDT at 0x5dbe2281). Sizes of 4 GiB
// and more put RAM above the 4 GiB hole on pc and q35 (2 or 3 GiB stay below it).
public partial class MemorySizeTests
{
    public static TheoryData<string, string, int, string> Rows()
    {
        var rows = new TheoryData<string, string, int, string>();
        foreach (var size in new[] { "64M", "1G", "2G", "3G", "4G", "8G" })
        {
            rows.Add("x86_64", "q35", 2, size);
            rows.Add("x86_64", "pc", 2, size);
            rows.Add("x86_64", "microvm", 2, size);
            rows.Add("aarch64", "virt", 2, size);
            rows.Add("aarch64", "virt", 3, size);
        }
        // highmem=off keeps everything below 4 GiB: QEMU itself refuses more than 3 GiB of RAM.
        foreach (var size in new[] { "64M", "1G", "2G", "3G" })
            rows.Add("aarch64", "virt,highmem=off", 2, size);
        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Boots_and_reads_entropy(string arch, string machine, int gic, string memory)
    {
        // microvm has no PCI bus: its entropy device sits on a virtio-mmio transport.
        var target = TargetArchNames.Parse(arch);
        var devices = machine == "microvm"
            ? new[] { new[] { "rng-random,id=rng0,filename=/dev/urandom", "virtio-rng-device,rng=rng0" } }
            : new[] { VirtioRngTests.Rng(0, ",disable-legacy=on") };
        var run = QemuRunner.Run(new RunOptions
        {
            KernelPath = Kernels.Path(target),
            Arch = target,
            Machine = machine,
            GicVersion = gic,
            Memory = memory,
            Append = "rng.bytes=64K",   // not quiet: the memory line is a KERN_INFO line
            Timeout = TimeSpan.FromSeconds(120),
            QemuExtra = devices.SelectMany(d => new[] { "-object", d[0] }).ToList(),
            Devices = devices.Select(d => d[1]).ToList(),
        });
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("entropy: read 65536 bytes from 1 device(s)"), run.Report());
        AssertMemoryReported(run, SizeInMiB(memory));
    }

    // "memory: RAM 0xSTART-0xEND, ..." uses at most the GiB of the boot map, all inside the
    // guest's RAM; when the guest has more, the line says how much the firmware reported.
    private static void AssertMemoryReported(RunResult run, long ramMiB)
    {
        var line = run.Lines.Single(l => l.Text.StartsWith("memory: RAM ")).Text;
        var m = MemoryLine().Match(line);
        Assert.True(m.Success, line);
        long used = (Convert.ToInt64(m.Groups[2].Value, 16) - Convert.ToInt64(m.Groups[1].Value, 16)) >> 20;
        Assert.InRange(used, Math.Min(ramMiB, 1024) - 4, 1024);
        if (ramMiB > 1024)
        {
            Assert.True(m.Groups[3].Success, "RAM beyond the boot map is not reported: " + line);
            Assert.InRange(long.Parse(m.Groups[3].Value), ramMiB - 2, ramMiB);   // x86: less the legacy hole
        }
        else
        {
            Assert.False(m.Groups[3].Success, line);
        }
    }

    private static long SizeInMiB(string size) => size.EndsWith('G') ? long.Parse(size[..^1]) << 10 : long.Parse(size[..^1]);

    [GeneratedRegex(@"^memory: RAM 0x([0-9a-f]+)-0x([0-9a-f]+), heap \d+ KiB, \d+ pages for DMA(?:; \d+ MiB more of the (\d+) MiB the firmware reports lie outside the boot map: not used)?$")]
    private static partial Regex MemoryLine();
}
