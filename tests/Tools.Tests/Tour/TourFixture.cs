using System.IO.Compression;
using GuestOS.Compare;
using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

/// <summary>
/// One recorded `make tour` run (tests/Tools.Tests/Tour/Fixtures/&lt;arch&gt;-&lt;rng&gt;, copied from
/// build/tour/): both debuggers' records, QEMU's trace (less the UART's register accesses, which
/// are the console's bytes and nothing the timeline reads) and the backend's -vv log.
/// </summary>
public static class TourFixture
{
    public static TourResult Load(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Tour", "Fixtures", name);
        string backendLog = Path.Combine(dir, "backend.log");
        var log = File.Exists(backendLog) ? File.ReadAllLines(backendLog) : [];
        var stops = TourRecording.Parse(Gunzip(Path.Combine(dir, "qemu.jsonl.gz"))).Stops
            .Concat(TourRecording.Parse(File.ReadAllLines(Path.Combine(dir, "guest.jsonl"))).Stops).ToList();
        return new TourResult(stops, BackendEvent.ParseLog(log, new BackendSource(Support.Repository.Root)), [],
                              QemuTraceEvent.ParseAll(Gunzip(Path.Combine(dir, "qemu.trace.gz"))), log, TimeSpan.Zero);
    }

    private static List<string> Gunzip(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }
}
