using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Runner;

public sealed class QemuCommandLineTests
{
    private static readonly RunOptions X86 = new() { KernelPath = "k.elf" };
    private static readonly RunOptions Arm = new() { KernelPath = "k.elf", Arch = TargetArch.Aarch64 };

    /// <summary>True when <paramref name="expected"/> occurs in <paramref name="argv"/> as consecutive words.</summary>
    private static bool HasSequence(IReadOnlyList<string> argv, params string[] expected) =>
        Enumerable.Range(0, argv.Count - expected.Length + 1).Any(i => argv.Skip(i).Take(expected.Length).SequenceEqual(expected));

    [Fact]
    public void X86_defaults_to_q35_with_the_debug_exit_port_and_the_common_arguments()
    {
        var argv = QemuCommandLine.Build(X86 with { Append = "console=ttyS0" });

        Assert.Equal("qemu-system-x86_64", argv[0]);
        Assert.True(HasSequence(argv, "-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio", "-monitor", "none"));
        Assert.True(HasSequence(argv, "-M", "q35"));
        Assert.True(HasSequence(argv, "-m", "256M"));
        Assert.True(HasSequence(argv, "-accel", "tcg"));
        Assert.True(HasSequence(argv, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        Assert.True(HasSequence(argv, "-kernel", "k.elf"));
        Assert.True(HasSequence(argv, "-append", "console=ttyS0"));
        Assert.DoesNotContain("-semihosting", argv);
        Assert.DoesNotContain("-cpu", argv);
    }

    [Fact]
    public void Aarch64_defaults_to_virt_GICv2_cortex_a57_with_semihosting()
    {
        var argv = QemuCommandLine.Build(Arm);

        Assert.Equal("qemu-system-aarch64", argv[0]);
        Assert.True(HasSequence(argv, "-M", "virt,gic-version=2"));
        Assert.True(HasSequence(argv, "-cpu", "cortex-a57"));
        Assert.Contains("-semihosting", argv);
        Assert.DoesNotContain(argv, a => a.StartsWith("isa-debug-exit", StringComparison.Ordinal));
    }

    [Fact]
    public void Machine_properties_GIC_CPU_memory_and_shared_RAM_combine_into_the_arguments()
    {
        var argv = QemuCommandLine.Build(Arm with { Machine = "virt,its=off", GicVersion = 3, Cpu = "max", Memory = "1G", SharedMemory = true });

        Assert.True(HasSequence(argv, "-M", "virt,its=off,gic-version=3,memory-backend=guestos-ram"));
        Assert.True(HasSequence(argv, "-object", "memory-backend-memfd,id=guestos-ram,size=1G,share=on"));
        Assert.True(HasSequence(argv, "-cpu", "max"));
        Assert.True(HasSequence(argv, "-m", "1G"));
    }

    [Fact]
    public void Devices_traces_gdb_and_extra_arguments_are_added_in_order_with_the_extras_last()
    {
        var options = X86 with
        {
            Machine = "microvm,pcie=on",
            Devices = ["virtio-rng-pci", "virtio-rng-pci,disable-legacy=on"],
            TracePatterns = ["virtio_*"],
            Gdb = true,
            QemuExtra = ["-object", "rng-random,id=r,filename=/dev/urandom"],
        };

        var argv = QemuCommandLine.Build(options);

        Assert.True(HasSequence(argv, "-M", "microvm,pcie=on"));
        Assert.True(HasSequence(argv, "-device", "virtio-rng-pci", "-device", "virtio-rng-pci,disable-legacy=on"));
        Assert.True(HasSequence(argv, "-trace", "virtio_*"));
        Assert.True(HasSequence(argv, "-s", "-S"));
        Assert.Equal(["-object", "rng-random,id=r,filename=/dev/urandom"], argv.TakeLast(2));
        Assert.Null(options.EffectiveTimeout);
    }

    [Fact]
    public void The_gdb_stub_can_listen_on_a_Unix_socket_instead_of_port_1234()
    {
        var argv = QemuCommandLine.Build(X86 with { Gdb = true, GdbSocket = "/tmp/a,b/gdb.sock" });

        Assert.True(HasSequence(argv, "-gdb", "unix:/tmp/a,,b/gdb.sock,server=on,wait=off", "-S"));
        Assert.DoesNotContain("-s", argv);
    }

    [Theory]
    [InlineData(TargetArch.X86_64, "virt", null, 2)]
    [InlineData(TargetArch.X86_64, "isapc", null, 2)]
    [InlineData(TargetArch.Aarch64, "q35", null, 2)]
    [InlineData(TargetArch.Aarch64, null, "cortex-a53", 2)]
    [InlineData(TargetArch.Aarch64, null, null, 4)]
    public void Unsupported_machines_CPUs_and_GIC_versions_are_refused_before_QEMU_runs(TargetArch arch, string? machine, string? cpu, int gic)
    {
        var options = new RunOptions { KernelPath = "k.elf", Arch = arch, Machine = machine, Cpu = cpu, GicVersion = gic };

        Assert.Throws<RunOptionsException>(() => QemuCommandLine.Build(options));
    }
}
