namespace GuestOS.Runner;

/// <summary>
/// Turns <see cref="RunOptions"/> into QEMU's argv. Public so that callers can take the argv,
/// add what the options do not model (say <c>-object rng-random,...</c> or a vhost-user
/// <c>-chardev socket,...</c>) and hand it back to <see cref="QemuRunner.RunAsync(RunOptions, IReadOnlyList{string}, CancellationToken)"/>.
/// </summary>
public static class QemuCommandLine
{
    /// <summary>The id given to the shared RAM backend when <see cref="RunOptions.SharedMemory"/> is on.</summary>
    public const string SharedMemoryId = "guestos-ram";

    /// <summary>
    /// The isa-debug-exit port the x86 kernel writes its exit code to; QEMU then exits with
    /// (code &lt;&lt; 1) | 1. It works on pc, q35 and microvm alike (microvm has an ISA bus).
    /// </summary>
    public const string X86DebugExitDevice = "isa-debug-exit,iobase=0xf4,iosize=0x04";

    /// <summary>The full argv, argv[0] being the QEMU binary.</summary>
    public static IReadOnlyList<string> Build(RunOptions options)
    {
        var argv = new List<string> { options.QemuBinary ?? options.Arch.QemuBinary() };

        // A machine with nothing we did not ask for, that stops instead of rebooting (so a
        // triple fault ends the run, with status 0), and whose serial port is our stdout.
        argv.AddRange(["-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio", "-monitor", "none"]);
        // TCG explicitly: /dev/kvm exists on these machines but is unusable (see the notes).
        argv.AddRange(["-accel", "tcg"]);
        argv.AddRange(["-m", options.Memory]);
        argv.AddRange(["-M", MachineArgument(options)]);
        if (SharedMemoryBackend(options) is { } backend)
        {
            argv.AddRange(["-object", backend]);
        }
        argv.AddRange(ArchitectureArguments(options));
        argv.AddRange(["-kernel", options.KernelPath]);
        // Always pass -append, even empty: the kernel then sees the same (empty) command line
        // on every machine instead of whatever a loader puts there by default.
        argv.AddRange(["-append", options.Append]);
        foreach (var device in options.Devices)
        {
            argv.AddRange(["-device", device]);
        }
        foreach (var pattern in options.TracePatterns)
        {
            argv.AddRange(["-trace", pattern]);
        }
        if (options.Gdb)
        {
            // QEMU option values escape a comma by doubling it.
            argv.AddRange(options.GdbSocket is null
                ? ["-s", "-S"]
                : ["-gdb", $"unix:{options.GdbSocket.Replace(",", ",,")},server=on,wait=off", "-S"]);
        }
        argv.AddRange(options.QemuExtra);
        return argv;
    }

    /// <summary>
    /// "-M" value: the machine, its pass-through properties, plus what this runner itself
    /// needs: the GIC version on virt and the shared RAM backend.
    /// </summary>
    private static string MachineArgument(RunOptions options)
    {
        var (name, properties) = Machines.Resolve(options.Arch, options.Machine);
        var parts = new List<string> { name };
        if (properties is not null)
        {
            parts.Add(properties);
        }
        if (options.Arch == TargetArch.Aarch64)
        {
            if (!Machines.GicVersions.Contains(options.GicVersion))
            {
                throw new RunOptionsException($"gic-version {options.GicVersion} is not supported (expected 2 or 3)");
            }
            parts.Add($"gic-version={options.GicVersion}");
        }
        if (options.SharedMemory)
        {
            parts.Add($"memory-backend={SharedMemoryId}");
        }
        return string.Join(',', parts);
    }

    private static string? SharedMemoryBackend(RunOptions options) => options.SharedMemory
        ? $"memory-backend-memfd,id={SharedMemoryId},size={options.Memory},share=on"
        : null;

    private static IEnumerable<string> ArchitectureArguments(RunOptions options)
    {
        if (options.Arch == TargetArch.X86_64)
        {
            if (options.Cpu is not null)
            {
                yield return "-cpu";
                yield return options.Cpu;
            }
            yield return "-device";
            yield return X86DebugExitDevice;
            yield break;
        }

        var cpu = options.Cpu ?? Machines.DefaultAarch64Cpu;
        if (!Machines.Aarch64Cpus.Contains(cpu))
        {
            throw new RunOptionsException(
                $"cpu '{cpu}' is not supported on aarch64 (expected one of: {string.Join(", ", Machines.Aarch64Cpus)})");
        }
        yield return "-cpu";
        yield return cpu;
        // Semihosting SYS_EXIT is how the aarch64 kernel reports its status; without this
        // flag the hlt #0xf000 instruction traps instead.
        yield return "-semihosting";
    }
}
