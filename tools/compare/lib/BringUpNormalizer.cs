using static GuestOS.Compare.VirtioCommonConfig;

namespace GuestOS.Compare;

/// <summary>
/// Turns one run's QEMU trace (and, with vhost-user, the backend's log) into the semantic
/// bring-up sequence: every status write; the device feature words read and the driver feature
/// words written; the FEATURES_OK read-back; MSI-X enabling, table entries and vector
/// assignments; each queue field; DRIVER_OK; then the first request (kick, completion,
/// interrupt) and the final reset. Redundant reads (status polled while waiting) and addresses
/// are dropped from the compared key, so two correct drivers produce the same sequence.
/// </summary>
public sealed class BringUpNormalizer
{
    private readonly List<BringUpStep> steps = [];
    private long deviceFeatureSelect, driverFeatureSelect, queueSelect, lastStatusWritten = -1;
    private bool featuresOkConfirmed, driverOk, firstKick, firstCompletion, firstInterrupt;
    private readonly Dictionary<int, long> ringHalves = [];            // offset -> value, current queue
    private readonly Dictionary<int, MsixEntry> msixTable = [];        // entry -> message
    private readonly Dictionary<long, long> queueVectors = [];         // queue -> MSI-X vector
    private long configVector = -1;

    private sealed class MsixEntry { public long Address; public long Data; public bool Masked = true; }

    /// <summary>MSI-X messages the device sent after DRIVER_OK (every one, not just the first).</summary>
    public int MsixMessages => MsixMessageSteps.Count;

    /// <summary>Each of those messages, as a step (only the first is part of <see cref="Steps"/>).</summary>
    public List<BringUpStep> MsixMessageSteps { get; } = [];

    /// <summary>When the device first saw its common configuration touched, and DRIVER_OK (host wall clock).</summary>
    public double? FirstAccessAt { get; private set; }
    public double? DriverOkAt { get; private set; }

    public IReadOnlyList<BringUpStep> Steps => steps;

    public static IReadOnlyList<BringUpStep> Normalize(IEnumerable<QemuTraceEvent> events, IEnumerable<TimedLine>? backendLog = null) =>
        Analyze(events, backendLog).Steps;

    public static BringUpNormalizer Analyze(IEnumerable<QemuTraceEvent> events, IEnumerable<TimedLine>? backendLog = null)
    {
        var n = new BringUpNormalizer();
        // One stream in time order: QEMU's events and the backend's completions.
        var merged = events.Select(e => (e.At, Event: (QemuTraceEvent?)e, Line: (TimedLine?)null))
            .Concat((backendLog ?? []).Select(l => (l.At, Event: (QemuTraceEvent?)null, Line: (TimedLine?)l)))
            .OrderBy(x => x.At);
        foreach (var (_, e, line) in merged)
        {
            if (e is not null) n.Add(e);
            else n.AddBackend(line!);
        }
        return n;
    }

    private StepPhase Phase => !driverOk ? StepPhase.BringUp : firstInterrupt ? StepPhase.Shutdown : StepPhase.FirstRequest;

    private void Emit(double at, string key, string detail = "") => steps.Add(new BringUpStep(at, Phase, key, detail));

    private void Add(QemuTraceEvent e)
    {
        switch (e.Name)
        {
            case "memory_region_ops_write" or "memory_region_ops_read":
                string region = e.Field("name") ?? "";
                bool write = e.Name.EndsWith("write", StringComparison.Ordinal);
                long addr = e.Number("addr") ?? 0, value = e.Number("value") ?? 0;
                if (region.StartsWith(RegionPrefix, StringComparison.Ordinal)) FirstAccessAt ??= e.At;
                if (region.StartsWith(RegionPrefix, StringComparison.Ordinal)) CommonConfig(e.At, (int)(addr & 0xfff), write, value);
                else if (region == VirtioMmioRegion) Mmio(e.At, (int)(addr & 0x1ff), write, value);
                else if (region == "msix-table" && write) MsixTableWrite(e.At, (int)(addr & 0xfff), value);
                else if (write && e.Number("cpu") == -1) DeviceWrite(e.At, addr, value);
                break;
            case "msix_write_config":
                bool enabled = e.Number("enabled") == 1, masked = e.Number("masked") == 1;
                EmitOnce(e.At, $"MSI-X {(enabled ? "enabled" : "disabled")}{(enabled && masked ? ", function masked" : "")}");
                break;
            case "virtio_queue_notify" when driverOk && !firstKick:
                firstKick = true;
                Emit(e.At, $"queue {e.Number("n")}: guest notifies the device (kick)");
                break;
            case "virtio_rng_pushed" when driverOk && !firstCompletion:
                firstCompletion = true;
                Emit(e.At, "device completes the request", $"{e.NumberBefore("bytes pushed")} bytes, QEMU's virtio-rng");
                break;
            case "vhost_dev_start":
                Emit(e.At, "QEMU starts the vhost-user backend (vhost_dev_start)");
                break;
            // virtio-mmio has one wired line (virt: SPIs 16-47, GIC INTIDs 48-79; microvm: IOAPIC).
            case "gic_set_irq" when driverOk && !firstInterrupt && mmioSeen && e.Number("level") == 1 && e.Number("irq") is >= 48 and <= 79:
                MmioInterrupt(e.At, $"GIC INTID {e.Number("irq")}");
                break;
            case "ioapic_set_irq" when driverOk && !firstInterrupt && mmioSeen && e.Number("level") == 1:
                MmioInterrupt(e.At, $"IOAPIC input {e.Number("vector")}");
                break;
        }
    }

    // ---- virtio-mmio (virtio 1.2, 4.2.2): the same semantic steps from its registers, so a
    // virtio-mmio bring-up lines up with a virtio-pci one. Only the slot that holds a device sees
    // writes: the empty slots a driver probes are read (magic, version, id) and left.
    public const string VirtioMmioRegion = "virtio-mmio";
    private bool mmioSeen;
    private readonly Dictionary<int, long> mmioRing = [];

    private void MmioInterrupt(double at, string line)
    {
        steps.Add(new BringUpStep(at, StepPhase.FirstRequest, "interrupt: the virtio-mmio line goes high", line));
        firstInterrupt = true;
    }

    private void Mmio(double at, int offset, bool write, long value)
    {
        string q = $"queue {queueSelect}";
        switch (offset, write)
        {
            case (0x070, _):
                mmioSeen = true;
                FirstAccessAt ??= at;
                CommonConfig(at, DeviceStatus, write, value);
                break;
            case (0x014, true): deviceFeatureSelect = value; break;
            case (0x010, false): Emit(at, $"device features word {deviceFeatureSelect} read = 0x{value:x}"); break;
            case (0x024, true): driverFeatureSelect = value; break;
            case (0x020, true): Emit(at, $"driver features word {driverFeatureSelect} <- 0x{value:x}"); break;
            case (0x028, true): Emit(at, $"legacy GuestPageSize <- {value}"); break;
            case (0x030, true): if (value != queueSelect) mmioRing.Clear(); queueSelect = value; break;
            case (0x034, false): Emit(at, $"{q}: queue_size read = {value}", "QueueNumMax"); break;
            case (0x038, true): Emit(at, $"{q}: queue_size <- {value}", "QueueNum"); break;
            case (0x03c, true): Emit(at, $"{q}: legacy QueueAlign <- {value}"); break;
            case (0x040, true): Emit(at, $"{q}: legacy QueuePFN <- {(value == 0 ? "0" : "ring page")}", $"0x{value:x}"); break;
            case (0x044, false): Emit(at, $"{q}: queue_enable read = {value}", "QueueReady"); break;
            case (0x044, true): Emit(at, $"{q}: queue_enable <- {value}", "QueueReady"); break;
            case (>= 0x080 and <= 0x0a4, true):
                mmioRing[offset] = value;
                if (mmioRing.Count == 6)
                {
                    foreach (var (mmioOffset, pciOffset) in new[] { (0x80, QueueDesc), (0x90, QueueDriver), (0xa0, QueueDevice) })
                    {
                        ringHalves[pciOffset] = mmioRing[mmioOffset];
                        ringHalves[pciOffset + 4] = mmioRing[mmioOffset + 4];
                    }
                    mmioRing.Clear();
                    RingAddresses(at, q);
                }
                break;
        }
    }

    private void AddBackend(TimedLine line)
    {
        if (!driverOk || firstCompletion || !line.Text.Contains("buffer(s) filled", StringComparison.Ordinal)) return;
        firstCompletion = true;
        Emit(line.At, "device completes the request", "the vhost-user backend: " + line.Text);
    }

    private void CommonConfig(double at, int offset, bool write, long value)
    {
        string q = $"queue {queueSelect}";
        switch (offset, write)
        {
            case (DeviceStatus, true):
                lastStatusWritten = value;
                // DRIVER_OK closes the bring-up; a reset after it is the shutdown.
                var phase = driverOk && value == 0 ? StepPhase.Shutdown : Phase;
                steps.Add(new BringUpStep(at, phase, "status <- " + DescribeStatus(value)));
                if ((value & DriverOk) != 0 && !driverOk) { driverOk = true; DriverOkAt = at; }
                break;
            case (DeviceStatus, false):
                // Only the read that confirms FEATURES_OK matters (3.1.1 step 6); the rest is polling.
                if (!featuresOkConfirmed && lastStatusWritten >= 0 && (lastStatusWritten & FeaturesOk) != 0)
                {
                    featuresOkConfirmed = true;
                    Emit(at, (value & FeaturesOk) != 0 ? "status read back: FEATURES_OK kept" : "status read back: FEATURES_OK refused",
                         DescribeStatus(value));
                }
                break;
            case (DeviceFeatureSelect, true): deviceFeatureSelect = value; break;
            case (DeviceFeature, false): Emit(at, $"device features word {deviceFeatureSelect} read = 0x{value:x}"); break;
            case (DriverFeatureSelect, true): driverFeatureSelect = value; break;
            case (DriverFeature, true): Emit(at, $"driver features word {driverFeatureSelect} <- 0x{value:x}"); break;
            case (MsixConfig, true):
                configVector = value;
                Emit(at, $"msix_config <- {Vector(value)}");
                break;
            case (NumQueues, false): Emit(at, $"num_queues read = {value}"); break;
            case (QueueSelect, true):
                if (value != queueSelect) ringHalves.Clear();
                queueSelect = value;
                break;
            case (QueueSize, false): Emit(at, $"{q}: queue_size read = {value}"); break;
            case (QueueSize, true): Emit(at, $"{q}: queue_size <- {value}"); break;
            case (QueueMsixVector, true):
                queueVectors[queueSelect] = value;
                Emit(at, $"{q}: queue_msix_vector <- {Vector(value)}");
                break;
            case (QueueEnable, false): Emit(at, $"{q}: queue_enable read = {value}"); break;
            case (QueueEnable, true): Emit(at, $"{q}: queue_enable <- {value}"); break;
            case (QueueNotifyOff, false): Emit(at, $"{q}: queue_notify_off read = {value}"); break;
            case (>= QueueDesc and < QueueDevice + 8, true):
                ringHalves[offset] = value;
                if (ringHalves.Count == 6) RingAddresses(at, q);
                break;
        }
    }

    /// <summary>All six address halves written: one step, with the layout relative to the descriptor table.</summary>
    private void RingAddresses(double at, string q)
    {
        long Full(int lo) => ringHalves[lo] | (ringHalves[lo + 4] << 32);
        long desc = Full(QueueDesc), driver = Full(QueueDriver), device = Full(QueueDevice);
        ringHalves.Clear();
        string Relative(long a) => Math.Abs(a - desc) < 0x10000 ? $"desc+0x{a - desc:x}" : "elsewhere";
        Emit(at, $"{q}: ring areas <- desc, driver at {Relative(driver)}, device at {Relative(device)}",
             $"desc 0x{desc:x}, driver 0x{driver:x}, device 0x{device:x}");
    }

    private void MsixTableWrite(double at, int offset, long value)
    {
        int index = offset / 16;
        if (!msixTable.TryGetValue(index, out var entry)) msixTable[index] = entry = new MsixEntry();
        switch (offset % 16)
        {
            case 0: entry.Address = (entry.Address & ~0xffffffffL) | value; break;
            case 4: entry.Address = (entry.Address & 0xffffffffL) | (value << 32); break;
            case 8: entry.Data = value; break;
            case 12:
                bool masked = (value & 1) != 0;
                if (entry.Masked && !masked) Emit(at, $"MSI-X table entry {index} unmasked", $"address 0x{entry.Address:x} data 0x{entry.Data:x}");
                entry.Masked = masked;
                break;
        }
    }

    /// <summary>A write the device itself made (no CPU): an MSI-X message when it matches a table entry.</summary>
    private void DeviceWrite(double at, long address, long data)
    {
        foreach (var (index, entry) in msixTable)
        {
            if (entry.Address != address || entry.Data != data || entry.Masked) continue;
            if (!driverOk) return;
            string purpose = queueVectors.Any(q => q.Value == index) ? "queue" : index == configVector ? "config" : "unassigned";
            var step = new BringUpStep(at, StepPhase.FirstRequest, $"interrupt: MSI-X message for vector {index} ({purpose})", $"write 0x{data:x} to 0x{address:x}");
            MsixMessageSteps.Add(step);
            if (firstInterrupt) return;
            steps.Add(step);
            firstInterrupt = true;
            return;
        }
    }

    /// <summary>Collapse repeats of the same step (Linux programs MSI-X control twice, say).</summary>
    private void EmitOnce(double at, string key)
    {
        if (steps.Count == 0 || steps[^1].Key != key) Emit(at, key);
    }

    private static string Vector(long value) => value == 0xffff ? "NO_VECTOR" : $"vector {value}";
}
