using System.Diagnostics;
using System.Text;

namespace GuestOS.Compare;

/// <summary>
/// Stops a guest that never exits (firmware, a shell) once its devices have gone quiet: it follows
/// QEMU's trace file (QEMU writes it line-buffered) and cancels <paramref name="stop"/> when
/// DRIVER_OK has been set (virtio_set_status with bit 4) and no virtio or vhost event has
/// followed for <paramref name="idle"/>.
/// </summary>
public static class IdleWatch
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public static async Task RunAsync(string traceFile, TimeSpan idle, CancellationTokenSource stop, CancellationToken done)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan lastActivity = TimeSpan.Zero;
        bool driverOk = false;
        long position = 0;
        string partial = "";
        try
        {
            while (!done.IsCancellationRequested)
            {
                await Task.Delay(Poll, done).ConfigureAwait(false);
                if (!File.Exists(traceFile)) continue;
                using (var file = new FileStream(traceFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                {
                    file.Seek(position, SeekOrigin.Begin);
                    var buffer = new byte[file.Length - position];
                    int n = await file.ReadAsync(buffer, done).ConfigureAwait(false);
                    position += n;
                    var lines = (partial + Encoding.UTF8.GetString(buffer, 0, n)).Split('\n');
                    partial = lines[^1];
                    foreach (var line in lines[..^1])
                    {
                        if (!IsDeviceActivity(line)) continue;
                        lastActivity = clock.Elapsed;
                        if (QemuTraceEvent.Parse(line) is { Name: "virtio_set_status" } e && ((e.Number("val") ?? 0) & 4) != 0) driverOk = true;
                    }
                }
                if (driverOk && clock.Elapsed - lastActivity >= idle)
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
            // The guest ended first.
        }
    }

    private static bool IsDeviceActivity(string line) =>
        line.Contains("virtio", StringComparison.Ordinal) || line.Contains("vhost", StringComparison.Ordinal) || line.Contains(":virtqueue_", StringComparison.Ordinal);
}
