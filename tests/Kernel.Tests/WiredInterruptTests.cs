using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// Wired interrupts (the kernel side of Irq.AttachWired / Irq.RoutePciIntx) and the virtio-mmio
// slots the platform describes (Platform.VirtioMmioSlots). test=wired attaches lines as a driver
// does and raises them (kernel/selftest/WiredTests.cs); these tests check what it printed
// against what QEMU was told and what QEMU's own tables say.
public class WiredInterruptTests
{
    private static readonly string[] RngDevice =
        ["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0"];

    private static RunResult Boot(TargetArch arch, string machine, int gic = 2) => QemuRunner.Run(new RunOptions
    {
        KernelPath = Kernels.Path(arch),
        Arch = arch,
        Machine = machine,
        GicVersion = gic,
        Append = "test=wired",
        QemuExtra = RngDevice,
        Timeout = TimeSpan.FromSeconds(60),
    });

    // virt always has 32 transports (hw/arm/virt.c: NUM_VIRTIO_TRANSPORTS, base_memmap
    // VIRT_MMIO 0x0a000000 + 0x200 each, a15irqmap VIRT_MMIO = SPI 16 + n, edge in
    // create_virtio_devices); the kernel lists them in ascending address order. The SPIs of
    // the first two are raised through GICD_ISPENDR, one edge and one level, three times each.
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Aarch64_virt_slots_come_from_the_device_tree_and_spis_reach_their_handlers(int gic)
    {
        var run = Boot(TargetArch.Aarch64, "virt", gic);
        Assert.True(run.Passed, run.Report());
        var slots = run.Lines.Select(l => l.Text).Where(t => t.StartsWith("devicetree: virtio-mmio ")).ToList();
        var expected = Enumerable.Range(0, 32)
            .Select(i => $"devicetree: virtio-mmio 0x{0x0a000000 + 0x200 * i:x} size 0x200, SPI {16 + i} (INTID {48 + i}) edge")
            .ToList();
        Assert.Equal(expected, slots);
        Assert.True(run.Printed("test wired: 32 virtio-mmio slot(s) described"), run.Report());
        for (int round = 1; round <= 3; round++)
        {
            Assert.True(run.Printed($"test wired: line 48 edge round {round} handled"), run.Report());
            Assert.True(run.Printed($"test wired: line 49 level round {round} handled"), run.Report());
        }
        Assert.True(run.Printed("gic: INTID 48 refused: it already has a handler, and an edge-triggered line is not shared"), run.Report());
        Assert.True(run.Printed("test wired: line 48 edge refused a second handler"), run.Report());
        Assert.True(run.Printed("test wired: line 49 level shared by a second handler, both ran"), run.Report());
        Assert.True(run.Printed("gic: INTID 5000 refused: not an SPI this GIC has"), run.Report());
    }

    // virt's PCIe INTx (hw/arm/virt.c create_pcie_irq_map): device d's pin p (1-4) arrives at
    // SPI 3 + (d + p - 1) % 4, level high; interrupt-map-mask <0x1800 0 0 7> keeps two device
    // bits, so the map has 16 entries. Every (device, pin) pair is checked, so a decoder that
    // ignored the mask, the pin or the parent's address cells would print something else.
    [Fact]
    public void Aarch64_virt_pci_intx_follows_the_interrupt_map()
    {
        var run = Boot(TargetArch.Aarch64, "virt");
        Assert.True(run.Passed, run.Report());
        for (int device = 1; device <= 4; device++)
            for (int pin = 1; pin <= 4; pin++)
            {
                int spi = 3 + (device + pin - 1) % 4;
                Assert.True(run.Printed($"test wired: INTx 0x{device << 3:x4} pin {pin} -> {32 + spi} level active-high"), run.Report());
            }
        Assert.True(run.Printed("devicetree: no INTx route for PCI 0x0008 pin 0: the pin is not 1-4 (INTA-INTD)"), run.Report());
        Assert.True(run.Printed("devicetree: no INTx route for PCI 0x0108 pin 1: the function is not on the root bus (swizzle it to its bridge first)"), run.Report());
    }

    // microvm has virtio-mmio only where a device is plugged: its DSDT gets one LNRO0005 device
    // per plugged transport (hw/i386/acpi-microvm.c acpi_dsdt_add_virtio: VIRTIO_MMIO_BASE
    // 0xfeb00000 + 512 * index, GSI virtio_irq_base + index, Level, ActiveHigh), and QEMU fills
    // the transports from the last (index 23: 0xfeb02e00, GSI 47 on the second IOAPIC). Two
    // devices give two slots, in ascending order. The command line stays what -append gave:
    // QEMU adds virtio_mmio.device= only for a Linux-protocol boot.
    [Fact]
    public void X86_64_microvm_slots_come_from_the_dsdt()
    {
        var run = QemuRunner.Run(new RunOptions
        {
            KernelPath = Kernels.Path(TargetArch.X86_64),
            Arch = TargetArch.X86_64,
            Machine = "microvm",
            Append = "test=wired",
            QemuExtra = [.. RngDevice, "-device", "virtio-rng-device,rng=rng0"],
            Timeout = TimeSpan.FromSeconds(60),
        });
        Assert.True(run.Passed, run.Report());
        var slots = run.Lines.Select(l => l.Text).Where(t => t.StartsWith("acpi: DSDT: virtio-mmio ")).ToList();
        Assert.Equal(["acpi: DSDT: virtio-mmio 0xfeb02c00 size 0x200, GSI 46 level, active high",
                      "acpi: DSDT: virtio-mmio 0xfeb02e00 size 0x200, GSI 47 level, active high"], slots);
        Assert.True(run.Printed("acpi: MADT: IOAPIC id 0 at 0xfec00000, GSIs 0-23"), run.Report());
        Assert.True(run.Printed("acpi: MADT: IOAPIC id 1 at 0xfec10000, GSIs 24-47"), run.Report());
        Assert.True(run.Printed("command line: test=wired"), run.Report());
        Assert.False(run.Printed("virtio_mmio.device="), run.Report());
    }

    // The RTC's ISA IRQ 8 (no override in QEMU's MADT: GSI 8) attached level-triggered through
    // the IOAPIC: three rounds, each needing the EOI to have re-armed the entry. pc and q35 also
    // list QEMU's overrides (hw/i386/acpi-common.c: IRQ 0 -> GSI 2; 5, 9, 10, 11 level, active
    // high), and the firmware line 11 of a PCI INTx becomes GSI 11, level, active high.
    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    [InlineData("microvm")]
    public void X86_64_ioapic_lines_reach_their_handlers(string machine)
    {
        var run = Kernels.Boot(TargetArch.X86_64, "test=wired", machine: machine);
        Assert.True(run.Passed, run.Report());
        for (int round = 1; round <= 3; round++)
            Assert.True(run.Printed($"test wired: line 8 level round {round} handled"), run.Report());
        Assert.True(run.Printed("test wired: line 8 level shared by a second handler, both ran"), run.Report());
        Assert.True(run.Printed("ioapic: no INTx route for PCI 0x0008 pin 1 line 255: firmware assigned no interrupt line"), run.Report());
        if (machine == "microvm")
        {
            Assert.True(run.Printed("test wired: 0 virtio-mmio slot(s) described"), run.Report());
            return;
        }
        Assert.True(run.Printed("acpi: MADT: ISA IRQ 0 -> GSI 2, bus trigger, bus polarity"), run.Report());
        Assert.True(run.Printed("acpi: MADT: ISA IRQ 11 -> GSI 11, level, active high"), run.Report());
        Assert.True(run.Printed("test wired: INTx 0x0008 pin 1 -> 11 level active-high"), run.Report());
    }
}
