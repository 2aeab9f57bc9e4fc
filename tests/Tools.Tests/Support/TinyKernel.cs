using System.Text;
using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Support;

/// <summary>How a tiny test kernel ends after printing.</summary>
public enum KernelEnding
{
    /// <summary>Exit with <see cref="TinyKernel.ExitCode"/> (isa-debug-exit / semihosting).</summary>
    Exit,
    /// <summary>Spin forever: only the timeout can end the run.</summary>
    Hang,
    /// <summary>x86 only: trap with no IDT, so QEMU (-no-reboot) exits with status 0.</summary>
    TripleFault,
}

/// <summary>
/// A kernel that prints <see cref="Console"/> byte for byte and then ends as told: assembled
/// from Kernels/tiny-&lt;arch&gt;.S with clang, so every runner test boots a real image.
/// </summary>
public sealed record TinyKernel(TargetArch Arch, byte[] Console, KernelEnding Ending, int ExitCode = (int)KernelExitCode.Pass)
{
    /// <summary>Inserted in <see cref="Console"/> text, the kernel spins for tens of milliseconds instead of printing.</summary>
    public const string Pause = "\u0001";

    public const string PassVerdict = "GUESTOS-VERDICT: PASS\n";

    public static TinyKernel Printing(string text, KernelEnding ending, int exitCode = (int)KernelExitCode.Pass, TargetArch arch = TargetArch.X86_64) =>
        new(arch, Encoding.UTF8.GetBytes(text), ending, exitCode);

    public static TinyKernel Exiting(KernelExitCode code, string text, TargetArch arch = TargetArch.X86_64) =>
        Printing(text, KernelEnding.Exit, (int)code, arch);

    /// <summary>Assembles and links the kernel in <paramref name="directory"/>; returns the ELF path.</summary>
    public string Build(TempDirectory directory)
    {
        var name = Arch == TargetArch.X86_64 ? "tiny-x86" : "tiny-aarch64";
        var kernels = Path.Combine(AppContext.BaseDirectory, "Kernels");
        File.WriteAllText(directory.File("message.inc"), MessageSource());

        var defines = Ending switch
        {
            KernelEnding.Exit => new[] { "ENDING_EXIT", $"EXIT_CODE={ExitCode}" },
            KernelEnding.Hang => ["ENDING_HANG"],
            KernelEnding.TripleFault when Arch == TargetArch.X86_64 => ["ENDING_TRIPLE_FAULT"],
            _ => throw new ArgumentException($"{Ending} is not available on {Arch}"),
        };
        var objectFile = directory.File(name + ".o");
        var elf = directory.File(name + ".elf");
        var target = Arch == TargetArch.X86_64 ? Toolchain.X86Target : Toolchain.Aarch64Target;
        Toolchain.Assemble(target, Path.Combine(kernels, name + ".S"), objectFile, directory.Path, defines);
        if (Arch == TargetArch.X86_64)
        {
            Toolchain.Link(objectFile, elf, "-T", Path.Combine(kernels, "tiny-x86.ld"));
        }
        else
        {
            // Linked above RAM + 2 MiB, where QEMU's virt machine leaves room (see the notes).
            Toolchain.Link(objectFile, elf, "-Ttext=0x40200000", "-e", "_start");
        }
        return elf;
    }

    /// <summary>message: / message_end: with the bytes as .byte lists, so any byte value survives.</summary>
    private string MessageSource()
    {
        var sb = new StringBuilder("message:\n");
        foreach (var chunk in Console.Chunk(16))
        {
            sb.Append("    .byte ").AppendJoin(", ", chunk.Select(b => $"0x{b:x2}")).Append('\n');
        }
        return sb.Append("message_end:\n").ToString();
    }
}
