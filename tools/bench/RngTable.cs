using System.Globalization;

namespace GuestOS.Bench;

/// <summary>What a row measures: a host-side ceiling, Linux 6.1 as the guest, or GuestOS.</summary>
public enum RowKind { Ceiling, Linux, GuestOS }

/// <summary>Which entropy device a row is about: QEMU's built-in virtio-rng-pci (fed by the host's
/// /dev/urandom) or our vhost-user backend. A ceiling row bounds the rows of its device.</summary>
public enum EntropyDevice { BuiltIn, Backend }

/// <summary>One run's figures. NaN where a figure does not apply or was not available.
/// GuestCopyMBps: GuestOS's BENCH-COPY, the window's copies done again in the same boot with no
/// device (the guest's own ceiling under TCG).</summary>
public sealed record RngSample(double MBps, double KicksPerMiB, double InterruptsPerMiB,
                               double QemuCpuSecondsPerGiB, double BackendCpuSecondsPerGiB, double DriverOkMs,
                               double GuestCopyMBps = double.NaN)
{
    /// <summary>A run that delivered <paramref name="bytes"/> in <paramref name="seconds"/>, using
    /// the given CPU seconds (QEMU, backend) and counting kicks and interrupts (NaN: not counted).</summary>
    public static RngSample From(double bytes, double seconds, double kicks, double interrupts,
                                 double qemuCpuSeconds, double backendCpuSeconds, double driverOkMs,
                                 double guestCopyMBps = double.NaN)
    {
        double mib = bytes / (1 << 20), gib = bytes / (1 << 30);
        return new RngSample(bytes / seconds / 1e6, kicks / mib, interrupts / mib,
                             qemuCpuSeconds / gib, backendCpuSeconds / gib, driverOkMs, guestCopyMBps);
    }
}

/// <summary>A row of the table: the medians of its runs, and the two ratios (NaN when not applicable).</summary>
public sealed record RngRow(string Arch, RowKind Kind, EntropyDevice Device, string Name, string Shape, int Runs,
                            double MBps, double XLinux, double XCeiling, double KicksPerMiB, double InterruptsPerMiB,
                            double QemuCpuSecondsPerGiB, double BackendCpuSecondsPerGiB, double DriverOkMs,
                            double GuestCopyMBps = double.NaN)
{
    /// <summary>MB/s against the guest's copy alone in the same boots (NaN without one).</summary>
    public double XGuestCopy => MBps / GuestCopyMBps;
}

public static class RngTable
{
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    /// <summary>Medians of each figure over <paramref name="samples"/>, ratios not yet known.</summary>
    public static RngRow Row(string arch, RowKind kind, EntropyDevice device, string name, string shape, IReadOnlyList<RngSample> samples) =>
        new(arch, kind, device, name, shape, samples.Count, Median(samples.Select(s => s.MBps)), double.NaN, double.NaN,
            Median(samples.Select(s => s.KicksPerMiB)), Median(samples.Select(s => s.InterruptsPerMiB)),
            Median(samples.Select(s => s.QemuCpuSecondsPerGiB)), Median(samples.Select(s => s.BackendCpuSecondsPerGiB)),
            Median(samples.Select(s => s.DriverOkMs)), Median(samples.Select(s => s.GuestCopyMBps)));

    /// <summary>
    /// Fills in the ratios: "x Linux" against the Linux row of the same architecture and device,
    /// "x ceiling" against the ceiling row of the same architecture and device. Ceiling rows
    /// have neither; a row without its reference gets NaN.
    /// </summary>
    public static IReadOnlyList<RngRow> WithRatios(IReadOnlyList<RngRow> rows)
    {
        double Of(RngRow r, RowKind kind) =>
            rows.FirstOrDefault(x => x.Arch == r.Arch && x.Device == r.Device && x.Kind == kind)?.MBps ?? double.NaN;
        return rows.Select(r => r.Kind == RowKind.Ceiling ? r : r with
        {
            XLinux = r.MBps / Of(r, RowKind.Linux),
            XCeiling = r.MBps / Of(r, RowKind.Ceiling),
        }).ToList();
    }

    /// <summary>Of several rows measuring the same thing with different settings, the fastest.</summary>
    public static RngRow Best(IEnumerable<RngRow> candidates) => candidates.MaxBy(r => double.IsNaN(r.MBps) ? double.MinValue : r.MBps)!;

    private static string F(double v, string format) =>
        double.IsNaN(v) || double.IsInfinity(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>One markdown table for <paramref name="arch"/>.</summary>
    public static IEnumerable<string> Format(string arch, IReadOnlyList<RngRow> rows)
    {
        yield return $"### {arch}";
        yield return "| row | device | shape | MB/s | x Linux | x ceiling | guest copy alone MB/s | x guest copy | kicks/MiB | interrupts/MiB | QEMU CPU s/GiB | backend CPU s/GiB | kernel entry to DRIVER_OK (ms) |";
        yield return "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";
        foreach (var r in rows.Where(r => r.Arch == arch))
            yield return $"| {r.Name} | {(r.Device == EntropyDevice.BuiltIn ? "built-in" : "backend")} | {r.Shape} | {F(r.MBps, "F1")} | " +
                         $"{F(r.XLinux, "F0")} | {F(r.XCeiling, "F2")} | {F(r.GuestCopyMBps, "F1")} | {F(r.XGuestCopy, "F2")} | " +
                         $"{F(r.KicksPerMiB, "F1")} | {F(r.InterruptsPerMiB, "F1")} | " +
                         $"{F(r.QemuCpuSecondsPerGiB, "F2")} | {F(r.BackendCpuSecondsPerGiB, "F2")} | {F(r.DriverOkMs, "F2")} |";
    }
}
