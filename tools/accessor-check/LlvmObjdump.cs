using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace GuestOS.AccessorCheck;

/// <summary>llvm-objdump is missing or failed: the arm64 check cannot run.</summary>
public sealed class DisassemblerException(string message) : Exception(message);

/// <summary>
/// Disassembles AArch64 code with llvm-objdump (Debian's llvm package, which the Makefile
/// installs anyway for llvm-size): the LLVM MC decoder clang's own assembler is tested against,
/// run as a process, so no native library or NuGet binding is needed. (Iced, which checks the
/// x86_64 kernel, decodes x86 only.)
/// </summary>
public static partial class LlvmObjdump
{
    public const string Tool = "llvm-objdump";

    /// <summary>
    /// Decode every architecture extension a v8.5 core may have: an instruction the decoder
    /// does not know prints as &lt;unknown&gt;, which the checker fails rather than guesses at.
    /// </summary>
    private const string Features = "+v8.5a,+sve,+mte";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>The instructions in [start, stop) of the ELF at <paramref name="path"/>, by address.</summary>
    public static IReadOnlyList<Arm64Instruction> Disassemble(string path, ulong start, ulong stop)
    {
        var output = Run([
            "--disassemble", "--no-show-raw-insn", $"--mattr={Features}",
            $"--start-address=0x{start:x}", $"--stop-address=0x{stop:x}", path,
        ]);
        return Parse(output);
    }

    /// <summary>
    /// Instruction lines are "  40201190:      \tldrb\tw0, [x0]"; data inside code prints its
    /// bytes anyway: "  40201198:\tff ff ff ff\t.word\t0xffffffff". Labels and headers are skipped.
    /// </summary>
    public static IReadOnlyList<Arm64Instruction> Parse(string output)
    {
        var instructions = new List<Arm64Instruction>();
        foreach (var line in output.Split('\n'))
        {
            var m = InstructionLine().Match(line);
            if (!m.Success)
            {
                continue;
            }
            var address = ulong.Parse(m.Groups["address"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var fields = m.Groups["rest"].Value.Split('\t', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && fields[1].StartsWith('.') && RawBytes().IsMatch(fields[0]))
            {
                fields = fields[1..];
            }
            if (fields.Length == 0)
            {
                continue;
            }
            instructions.Add(new Arm64Instruction(address, fields[0], string.Join(' ', fields.Skip(1))));
        }
        return instructions;
    }

    private static string Run(IReadOnlyList<string> args)
    {
        var startInfo = new ProcessStartInfo(Tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(startInfo)!;
        }
        catch (Win32Exception e)
        {
            throw new DisassemblerException($"{Tool} not found ({e.Message}); the aarch64 check needs it: apt-get install llvm");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Deadline))
            {
                process.Kill();
                throw new DisassemblerException($"{Tool} did not finish within {Deadline.TotalSeconds} s");
            }
            if (process.ExitCode != 0)
            {
                throw new DisassemblerException($"{Tool} {string.Join(' ', args)} failed with {process.ExitCode}: {stderr.Result.Trim()}");
            }
            return stdout.Result;
        }
    }

    [GeneratedRegex(@"^\s*(?<address>[0-9a-f]+):(?<rest>.*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"^([0-9a-f]{2} )*[0-9a-f]{2}$")]
    private static partial Regex RawBytes();
}
