using System.Diagnostics;
using GuestOS.Runner;

namespace GuestOS.Bench;

// QEMU start to the first console byte (GuestBootBench: GuestOS's C# kernel against the
// assembly-only kernel on the same QEMU command line, alternating run by run). The clock stops
// at the byte: stopping QEMU afterwards takes longer the more guest memory was touched, and
// only GuestOS is still running then (the baseline has exited), so timing the whole process
// made aarch64 look 1.17-1.25x instead of ~1.04x.
public static class FirstByte
{
    public static IReadOnlyList<string> CommandLine(TargetArch arch, string kernel)
        => QemuCommandLine.Build(new RunOptions { KernelPath = kernel, Arch = arch });

    /// <summary>Milliseconds from starting QEMU with <paramref name="argv"/> to its first console byte; QEMU is stopped afterwards.</summary>
    public static double Ms(IReadOnlyList<string> argv)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var qemu = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + argv[0]);
        int first = qemu.StandardOutput.BaseStream.ReadByte();
        double ms = clock.Elapsed.TotalMilliseconds;
        try { qemu.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        qemu.WaitForExit();
        if (first < 0) throw new InvalidOperationException("QEMU printed nothing: " + qemu.StandardError.ReadToEnd());
        return ms;
    }
}
