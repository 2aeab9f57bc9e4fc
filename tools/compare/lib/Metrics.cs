using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace GuestOS.Compare;

/// <summary>
/// What one run measured. Null means "not observable in this run" and prints as "n/a": the tool
/// reports what it sees, it never fills a gap with an assumption.
/// </summary>
public sealed record Metrics
{
    /// <summary>QEMU's start to the DRIVER_OK write (includes the guest's boot).</summary>
    public double? StartToDriverOkMs { get; init; }
    /// <summary>The first common-configuration access (the reset) to DRIVER_OK: the bring-up itself.</summary>
    public double? BringUpMs { get; init; }
    /// <summary>What the guest itself reported (busybox dd, or GuestOS's "entropy: read" line).</summary>
    public double? GuestThroughputKiBs { get; init; }
    public long Requests { get; init; }
    public long Bytes { get; init; }
    public double? BytesPerRequest => Requests > 0 ? (double)Bytes / Requests : null;
    /// <summary>Median time between two completions: the cost of one round trip when busy.</summary>
    public double? MedianCompletionIntervalUs { get; init; }
    /// <summary>The most buffers the device found posted at once.</summary>
    public long? MaxInFlight { get; init; }
    /// <summary>MSI-X messages the device sent after DRIVER_OK.</summary>
    public long MsixMessages { get; init; }
    /// <summary>Times the device decided to notify (virtio_notify, or the backend's call).</summary>
    public long DeviceNotifications { get; init; }
    public double? MsixPerMiB => Bytes > 0 ? MsixMessages / (Bytes / 1048576.0) : null;
    public double? NotificationsPerMiB => Bytes > 0 ? DeviceNotifications / (Bytes / 1048576.0) : null;

    public static Metrics From(GuestTrace run)
    {
        var analysis = run.Analysis;
        double? driverOk = analysis.DriverOkAt;
        var after = run.Events.Where(e => driverOk is not null && e.At >= driverOk).ToList();
        var completions = new List<(double At, long Bytes, long Count)>();
        long? maxInFlight = null;
        long notifications;
        if (run.Backend.Count > 0)
        {
            foreach (var line in run.Backend.Where(l => driverOk is not null && l.At >= driverOk))
            {
                var m = Regex.Match(line.Text, @"(\d+) buffer\(s\) filled \((\d+) bytes\)");
                if (!m.Success) continue;
                long count = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                completions.Add((line.At, long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), count));
                maxInFlight = Math.Max(maxInFlight ?? 0, count);
            }
            notifications = run.Backend.Count(l => l.Text.EndsWith(": call", StringComparison.Ordinal));
        }
        else
        {
            completions.AddRange(after.Where(e => e.Name == "virtio_rng_pushed").Select(e => (e.At, e.NumberBefore("bytes pushed") ?? 0, 1L)));
            notifications = after.Count(e => e.Name == "virtio_notify");
        }
        long bytes = completions.Sum(c => c.Bytes), requests = completions.Sum(c => c.Count);
        if (run.Backend.Count == 0 && requests > 0)
        {
            // virtio_rng_request reports the bytes of every buffer posted: divided by one buffer's size, the buffers in flight.
            double perRequest = (double)bytes / requests;
            var posted = after.Where(e => e.Name == "virtio_rng_request").Select(e => e.NumberBefore("bytes requested") ?? 0).DefaultIfEmpty(0).Max();
            maxInFlight = (long)Math.Ceiling(posted / perRequest);
        }
        var gaps = completions.Zip(completions.Skip(1), (a, b) => (b.At - a.At) * 1e6).Order().ToList();
        return new Metrics
        {
            StartToDriverOkMs = driverOk is double d ? (d - run.QemuStartedAt) * 1000 : null,
            BringUpMs = driverOk is double ok && analysis.FirstAccessAt is double first ? (ok - first) * 1000 : null,
            GuestThroughputKiBs = GuestThroughput(run.Console),
            Requests = requests,
            Bytes = bytes,
            MedianCompletionIntervalUs = gaps.Count > 0 ? gaps[gaps.Count / 2] : null,
            MaxInFlight = maxInFlight,
            MsixMessages = analysis.MsixMessages,
            DeviceNotifications = notifications,
        };
    }

    /// <summary>
    /// GuestOS prints "entropy: read 65536 bytes ... in 56600 us". Debian's busybox dd prints no
    /// timing and its date has no %N, so for Linux the window is the host arrival time of the
    /// init script's "reading N bytes" line to dd's "records out" line (serial output, about
    /// a millisecond of error).
    /// </summary>
    private static double? GuestThroughput(IReadOnlyList<TimedLine> console)
    {
        foreach (var line in console)
        {
            var g = Regex.Match(line.Text, @"^entropy: read (\d+) bytes .* in (\d+) us");
            if (g.Success) return Rate(double.Parse(g.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(g.Groups[2].Value, CultureInfo.InvariantCulture) / 1e6);
        }
        var start = console.FirstOrDefault(l => l.Text.StartsWith("LINUX-COMPARE: hwrng", StringComparison.Ordinal));
        var end = console.FirstOrDefault(l => l.Text.Contains("records out", StringComparison.Ordinal));
        var n = start is null ? null : Regex.Match(start.Text, @"reading (\d+) bytes");
        if (end is null || n is null || !n.Success) return null;
        return Rate(double.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture), end.At - start!.At);

        static double? Rate(double bytes, double seconds) => seconds > 0 ? bytes / 1024 / seconds : null;
    }

    /// <summary>The metrics table, one column per run.</summary>
    public static string Render(IReadOnlyList<(string Name, Metrics M)> columns)
    {
        var rows = new (string Label, Func<Metrics, string> Value)[]
        {
            ("time to DRIVER_OK from QEMU start (ms)", m => F(m.StartToDriverOkMs, "0.0")),
            ("bring-up: reset to DRIVER_OK (ms)", m => F(m.BringUpMs, "0.00")),
            ("throughput, as the guest reads (KiB/s)", m => F(m.GuestThroughputKiBs, "0")),
            ("median interval between completions (us)", m => F(m.MedianCompletionIntervalUs, "0")),
            ("requests completed", m => m.Requests.ToString(CultureInfo.InvariantCulture)),
            ("bytes completed", m => m.Bytes.ToString(CultureInfo.InvariantCulture)),
            ("bytes per request", m => F(m.BytesPerRequest, "0.#")),
            ("requests in flight (max posted at once)", m => m.MaxInFlight?.ToString(CultureInfo.InvariantCulture) ?? "n/a"),
            ("device notifications (virtio_notify/call)", m => m.DeviceNotifications.ToString(CultureInfo.InvariantCulture)),
            ("MSI-X interrupts", m => m.MsixMessages.ToString(CultureInfo.InvariantCulture)),
            ("MSI-X interrupts per MiB", m => F(m.MsixPerMiB, "0")),
            ("device notifications per MiB", m => F(m.NotificationsPerMiB, "0")),
        };
        int labelWidth = rows.Max(r => r.Label.Length);
        var sb = new StringBuilder();
        sb.Append("metric".PadRight(labelWidth));
        foreach (var c in columns) sb.Append("  ").Append(c.Name.PadLeft(14));
        sb.AppendLine();
        foreach (var (label, value) in rows)
        {
            sb.Append(label.PadRight(labelWidth));
            foreach (var c in columns) sb.Append("  ").Append(value(c.M).PadLeft(14));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string F(double? v, string format) => v?.ToString(format, CultureInfo.InvariantCulture) ?? "n/a";
}
