using System.Globalization;
using GuestOS.Runner;

namespace GuestOS.Runner.Cli;

/// <summary>What the command line asked for: the run itself plus how the CLI should behave.</summary>
public sealed record CliCommand(RunOptions Options, bool DryRun, bool Quiet, bool Help, string? VhostUserRngBackend = null,
                                bool VhostUserMmio = false);

/// <summary>
/// Parses guestos-run's arguments. "--flag value" and "--flag=value" both work. An empty value
/// means "the default", so a Makefile can always pass --machine "$(MACHINE)" whether or not
/// MACHINE is set.
/// </summary>
public static class CliArguments
{
    public const string Usage = """
        usage: guestos-run --kernel ELF [options]
          --arch x86_64|aarch64     guest architecture (default x86_64)
          --machine M[,props]       x86_64: q35 (default), pc, microvm; aarch64: virt
          --gic 2|3                 aarch64 GIC version (default 2)
          --cpu C                   aarch64: cortex-a57 (default), cortex-a72, max; x86_64: any QEMU -cpu
          --kernel ELF              kernel image (also accepted as the only positional argument)
          --append "CMDLINE"        kernel command line
          --memory SIZE             guest RAM (default 256M)
          --timeout SECONDS         kill QEMU after this long (default 30; 0 = never)
          --device DEV              raw -device argument (repeatable)
          --qemu-extra "ARGS"       more QEMU arguments, split like a shell would (repeatable)
          --shared-memory           back RAM with a shared memfd (for vhost-user)
          --vhost-user-rng BACKEND  start the vhost-user-rng backend, connect a vhost-user-rng-pci
                                    device to it (shared RAM, vectors=2), stop it afterwards
          --vhost-user-mmio         ... as vhost-user-rng on a virtio-mmio transport instead
          --trace PATTERN           QEMU -trace event pattern (repeatable); output goes to stderr
          --gdb                     add -s -S (gdb on tcp::1234, CPU halted) and no timeout
          --tail N                  console lines shown on failure (default 20)
          --qemu PATH               QEMU binary (default qemu-system-ARCH)
          --dry-run                 print the QEMU command line and exit
          --quiet                   do not echo the console; still print the summary and, on failure, the last lines
        exit status: 0 pass, 1 fail, 2 timeout, 3 usage error
        """;

    /// <summary>Throws <see cref="RunOptionsException"/> on any malformed argument.</summary>
    public static CliCommand Parse(IReadOnlyList<string> args)
    {
        string? arch = null, machine = null, cpu = null, kernel = null, gic = null;
        string? append = null, memory = null, timeout = null, tail = null, qemu = null;
        var devices = new List<string>();
        var extra = new List<string>();
        var traces = new List<string>();
        bool gdb = false, dryRun = false, quiet = false, help = false, sharedMemory = false;
        string? vhostUserRng = null;
        bool vhostUserMmio = false;

        for (var i = 0; i < args.Count; i++)
        {
            var (flag, inlineValue) = SplitFlag(args[i]);
            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }
                if (i + 1 >= args.Count)
                {
                    throw new RunOptionsException($"{flag} needs a value");
                }
                return args[++i];
            }
            void NoValue()
            {
                if (inlineValue is not null)
                {
                    throw new RunOptionsException($"{flag} takes no value");
                }
            }

            switch (flag)
            {
                case "--arch": arch = Value(); break;
                case "--machine": machine = Value(); break;
                case "--gic": gic = Value(); break;
                case "--cpu": cpu = Value(); break;
                case "--kernel": kernel = Value(); break;
                case "--append": append = Value(); break;
                case "--memory": memory = Value(); break;
                case "--timeout": timeout = Value(); break;
                case "--tail": tail = Value(); break;
                case "--qemu": qemu = Value(); break;
                case "--device": AddIfNotEmpty(devices, Value()); break;
                case "--trace": AddIfNotEmpty(traces, Value()); break;
                case "--qemu-extra": extra.AddRange(ShellWords.Split(Value())); break;
                case "--gdb": NoValue(); gdb = true; break;
                case "--shared-memory": NoValue(); sharedMemory = true; break;
                case "--vhost-user-rng": vhostUserRng = Value(); break;
                case "--vhost-user-mmio": vhostUserMmio = true; break;
                case "--dry-run": NoValue(); dryRun = true; break;
                case "--quiet": NoValue(); quiet = true; break;
                case "-h" or "--help": help = true; break;
                default:
                    if (flag.StartsWith('-'))
                    {
                        throw new RunOptionsException($"unknown option {flag}");
                    }
                    if (kernel is not null)
                    {
                        throw new RunOptionsException($"unexpected argument '{flag}' (the kernel is already {kernel})");
                    }
                    kernel = flag;
                    break;
            }
        }

        if (help)
        {
            return new CliCommand(new RunOptions { KernelPath = "" }, DryRun: false, Quiet: false, Help: true);
        }
        if (string.IsNullOrEmpty(kernel))
        {
            throw new RunOptionsException("no kernel given (--kernel ELF)");
        }

        var options = new RunOptions
        {
            KernelPath = kernel,
            Arch = Empty(arch) ? TargetArch.X86_64 : TargetArchNames.Parse(arch!),
            Machine = Empty(machine) ? null : machine,
            GicVersion = Empty(gic) ? Machines.DefaultGicVersion : Integer("--gic", gic!),
            Cpu = Empty(cpu) ? null : cpu,
            Append = append ?? "",
            Memory = Empty(memory) ? "256M" : memory!,
            Timeout = Empty(timeout) ? TimeSpan.FromSeconds(30) : TimeoutValue(timeout!),
            TailLines = Empty(tail) ? 20 : Integer("--tail", tail!),
            QemuBinary = Empty(qemu) ? null : qemu,
            Devices = devices,
            QemuExtra = extra,
            TracePatterns = traces,
            Gdb = gdb,
            SharedMemory = sharedMemory || !Empty(vhostUserRng),
        };
        // Building the command line validates machine, CPU and GIC now, as a usage error.
        QemuCommandLine.Build(options);
        return new CliCommand(options, dryRun, quiet, Help: false, Empty(vhostUserRng) ? null : vhostUserRng, vhostUserMmio);
    }

    private static (string Flag, string? Value) SplitFlag(string arg)
    {
        if (!arg.StartsWith("--", StringComparison.Ordinal))
        {
            return (arg, null);
        }
        var equals = arg.IndexOf('=');
        return equals < 0 ? (arg, null) : (arg[..equals], arg[(equals + 1)..]);
    }

    private static bool Empty(string? value) => string.IsNullOrWhiteSpace(value);

    private static void AddIfNotEmpty(List<string> list, string value)
    {
        if (!Empty(value))
        {
            list.Add(value);
        }
    }

    private static int Integer(string flag, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new RunOptionsException($"{flag} expects a non-negative integer, not '{value}'");

    private static TimeSpan? TimeoutValue(string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || double.IsInfinity(seconds))
        {
            throw new RunOptionsException($"--timeout expects seconds, not '{value}'");
        }
        return seconds == 0 ? null : TimeSpan.FromSeconds(seconds);
    }
}
