// Fuzz targets for the backend's code that reads hostile input (tools/fuzz/README.md).
//
//   VhostUserRng.Fuzz <target>              under afl-fuzz: SharpFuzz feeds one input per run
//   VhostUserRng.Fuzz <target> <file>...    runs each file once (replays a crash, checks a corpus)
//   VhostUserRng.Fuzz seeds <directory>     writes the seed corpus, <directory>/<target>/<seed>
//
// A target may let through only the exceptions the backend documents for bad input; any other
// exception (or a signal) escapes to SharpFuzz, which reports it to AFL++ as a crash.

using System;
using System.IO;
using SharpFuzz;

namespace VhostUserRng.Fuzz;

public static class Program
{
    private static readonly IFuzzTarget[] Targets = { new ProtocolTarget(), new MemoryTableTarget(), new SplitRingTarget(), new SessionTarget() };

    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "seeds")
        {
            foreach (var target in Targets)
            {
                string dir = Path.Combine(args[1], target.Name);
                Directory.CreateDirectory(dir);
                foreach (var (name, bytes) in target.Seeds()) File.WriteAllBytes(Path.Combine(dir, name), bytes);
            }
            return 0;
        }
        var chosen = args.Length >= 1 ? Array.Find(Targets, t => t.Name == args[0]) : null;
        if (chosen is null)
        {
            Console.Error.WriteLine($"usage: VhostUserRng.Fuzz <target> [input file...] | seeds <directory>; targets: {string.Join(", ", Array.ConvertAll(Targets, t => t.Name))}");
            return 2;
        }
        if (args.Length > 1)
        {
            foreach (string file in args[1..]) chosen.Run(File.ReadAllBytes(file));
            return 0;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            chosen.Run(copy.GetBuffer().AsSpan(0, (int)copy.Length));
        });
        return 0;
    }
}

public interface IFuzzTarget
{
    /// <summary>The command-line name, also the corpus directory's name.</summary>
    string Name { get; }

    /// <summary>Feeds one input through the code under test; throws only for a finding.</summary>
    void Run(ReadOnlySpan<byte> input);

    /// <summary>Small valid inputs for the seed corpus.</summary>
    (string Name, byte[] Bytes)[] Seeds();
}

/// <summary>Thrown by a target when the code under test broke an invariant without throwing:
/// a finding, like an unexpected exception.</summary>
public sealed class InvariantViolatedException : Exception
{
    public InvariantViolatedException(string message) : base(message) { }
}
