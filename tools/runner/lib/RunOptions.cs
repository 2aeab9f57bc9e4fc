namespace GuestOS.Runner;

/// <summary>
/// Everything that decides one QEMU boot: what to boot, on which machine, with which devices,
/// and how long to wait. An immutable record: derive variants with <c>with { ... }</c>.
/// </summary>
public sealed record RunOptions
{
    /// <summary>The kernel ELF handed to QEMU's <c>-kernel</c>.</summary>
    public required string KernelPath { get; init; }

    public TargetArch Arch { get; init; } = TargetArch.X86_64;

    /// <summary>
    /// Machine name, optionally with QEMU machine properties: "q35", "microvm,pcie=on".
    /// Null picks the architecture's default (q35 / virt).
    /// </summary>
    public string? Machine { get; init; }

    /// <summary>aarch64 only: the virt machine's GIC version, 2 or 3.</summary>
    public int GicVersion { get; init; } = Machines.DefaultGicVersion;

    /// <summary>
    /// CPU model. aarch64: cortex-a57 (when null), cortex-a72 or max.
    /// x86_64: passed through to <c>-cpu</c> when set (e.g. "max"); null keeps QEMU's default.
    /// </summary>
    public string? Cpu { get; init; }

    /// <summary>The kernel command line (<c>-append</c>).</summary>
    public string Append { get; init; } = "";

    /// <summary>Guest RAM as QEMU spells it (<c>-m</c>): "256M", "1G".</summary>
    public string Memory { get; init; } = "256M";

    /// <summary>Kill QEMU after this long. Null waits forever (and so does <see cref="Gdb"/>).</summary>
    public TimeSpan? Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Raw <c>-device</c> arguments, one per device: "virtio-rng-pci,disable-legacy=on".</summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    /// <summary>QEMU arguments appended verbatim at the end (already split into words).</summary>
    public IReadOnlyList<string> QemuExtra { get; init; } = [];

    /// <summary>
    /// Back guest RAM with a shared memfd (<c>memory-backend-memfd,share=on</c>), which
    /// vhost-user back-ends need in order to map guest memory.
    /// </summary>
    public bool SharedMemory { get; init; }

    /// <summary>Adds <c>-s -S</c> (gdb stub on tcp::1234, CPU halted at start) and disables the timeout.</summary>
    public bool Gdb { get; init; }

    /// <summary>
    /// With <see cref="Gdb"/>: the gdb stub listens on this Unix socket instead of tcp::1234,
    /// so a test's QEMU can never collide with another user of the port.
    /// </summary>
    public string? GdbSocket { get; init; }

    /// <summary>QEMU trace event patterns, each becoming <c>-trace PATTERN</c>; trace lines arrive on stderr.</summary>
    public IReadOnlyList<string> TracePatterns { get; init; } = [];

    /// <summary>How many trailing console lines a failure report shows.</summary>
    public int TailLines { get; init; } = 20;

    /// <summary>Path or name of the QEMU binary; null means qemu-system-&lt;arch&gt; from PATH.</summary>
    public string? QemuBinary { get; init; }

    /// <summary>
    /// Called for every complete console line as it arrives (serial output). The library never
    /// writes to the console itself: the CLI echoes through this, xunit can route it to
    /// ITestOutputHelper.
    /// </summary>
    public Action<ConsoleLine>? OnConsoleLine { get; init; }

    /// <summary>Called for every line QEMU writes to its stderr (errors, -trace output).</summary>
    public Action<ConsoleLine>? OnQemuStderrLine { get; init; }

    /// <summary>The timeout actually enforced: none when a debugger is expected to attach.</summary>
    public TimeSpan? EffectiveTimeout => Gdb ? null : Timeout;
}
