using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// One kernel image per architecture boots on every supported machine and CPU.
public class BootTests
{
    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    [InlineData("microvm")]
    public void X86_64_boots_with_banner_and_verdict(string machine)
    {
        var run = Kernels.Boot(TargetArch.X86_64, "test=heap", machine: machine);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("GuestOS 0.1 x86_64 booted by multiboot"), run.Report());
        Assert.True(run.Printed("GUESTOS-VERDICT: PASS"), run.Report());
    }

    [Theory]
    [InlineData("cortex-a57", 2)]
    [InlineData("cortex-a57", 3)]
    [InlineData("cortex-a72", 2)]
    [InlineData("cortex-a72", 3)]
    [InlineData("max", 2)]
    [InlineData("max", 3)]
    public void Aarch64_boots_on_virt(string cpu, int gic)
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=heap", cpu: cpu, gic: gic);
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("GuestOS 0.1 aarch64 booted by devicetree"), run.Report());
        Assert.True(run.Printed(gic == 3 ? "gic: GICv3 distributor 0x8000000, redistributor 0x80a0000, ITS 0x8080000"
                                         : "gic: GICv2 distributor 0x8000000"), run.Report());
    }

    // QEMU prefers Multiboot when the header is present, so the PVH entry is proved with a
    // copy of the same image whose Multiboot magic is erased.
    [Theory]
    [InlineData("q35")]
    [InlineData("microvm")]
    public void X86_64_boots_through_the_pvh_note(string machine)
    {
        string copy = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"guestos-pvh-{Guid.NewGuid():N}.elf");
        byte[] image = File.ReadAllBytes(Kernels.Path(TargetArch.X86_64));
        int at = FindMultibootMagic(image);
        Assert.True(at >= 0, "no Multiboot header in the first 8 KiB");
        image[at] = 0;
        File.WriteAllBytes(copy, image);
        try
        {
            var run = Kernels.Boot(TargetArch.X86_64, "test=boot pvh-args-arrive", machine: machine, kernelPath: copy);
            Assert.True(run.Passed, run.Report());
            Assert.True(run.Printed("booted by pvh"), run.Report());
            Assert.True(run.Printed("command line: test=boot pvh-args-arrive"), run.Report());
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void The_command_line_reaches_the_kernel_on_aarch64()
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "test=boot alpha beta=42");
        Assert.True(run.Passed, run.Report());
        Assert.True(run.Printed("command line: test=boot alpha beta=42"), run.Report());
    }

    [Fact]
    public void The_device_tree_describes_the_machine_on_aarch64()
    {
        var run = Kernels.Boot(TargetArch.Aarch64, "", gic: 3);    // no device: PCI is scanned, then NO_DEVICE
        Assert.Equal(RunOutcome.NoDevice, run.Outcome);
        Assert.True(run.Printed("memory: RAM 0x4"), run.Report());
        Assert.True(run.Printed("devicetree: PCIe ECAM at 0x4010000000, buses 0-255"), run.Report());
        Assert.True(run.Printed("devicetree: PCI window mem32 0x10000000 size 0x2eff0000"), run.Report());
    }

    private static int FindMultibootMagic(byte[] image)
    {
        for (int i = 0; i + 4 <= Math.Min(image.Length, 8192); i += 4)
            if (BitConverter.ToUInt32(image, i) == 0x1BADB002) return i;
        return -1;
    }
}
