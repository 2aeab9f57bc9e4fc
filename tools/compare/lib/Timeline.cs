using System.Globalization;
using System.Text;
using GuestOS.Drivers.Narration;
using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>The layer a timeline entry comes from.</summary>
public enum Layer { Guest, Qemu, Backend }

/// <summary>What a timeline entry is, for whoever checks the timeline (the tests do).</summary>
public enum TimelineKind
{
    GuestStep, StatusWrite, VhostDevStart, VhostUserMessage, BackendMessage, Kick, Completion, Call, Interrupt,
}

/// <summary>
/// One step on the merged timeline; <see cref="Function"/> names the QEMU or Linux function (or
/// the backend's code) it corresponds to, the way one would find it in a gdb backtrace.
/// </summary>
public sealed record TimelineEntry(double At, Layer Layer, TimelineKind Kind, string Text, string Function);

/// <summary>
/// `make trace`: one device start and one request across the guest driver (its console
/// narration), QEMU (trace events) and the vhost-user backend (its -vv --log-timestamps log),
/// merged on the host's wall clock. It ends with the first interrupt that follows the
/// backend's first call.
/// </summary>
public static class Timeline
{
    // vhost-user.rst request codes (front-end to back-end) that QEMU 7.2 sends to an rng backend.
    private static readonly Dictionary<long, string> Requests = new()
    {
        [1] = "GET_FEATURES", [2] = "SET_FEATURES", [3] = "SET_OWNER", [5] = "SET_MEM_TABLE",
        [8] = "SET_VRING_NUM", [9] = "SET_VRING_ADDR", [10] = "SET_VRING_BASE", [11] = "GET_VRING_BASE",
        [12] = "SET_VRING_KICK", [13] = "SET_VRING_CALL", [14] = "SET_VRING_ERR", [15] = "GET_PROTOCOL_FEATURES",
        [16] = "SET_PROTOCOL_FEATURES", [17] = "GET_QUEUE_NUM", [18] = "SET_VRING_ENABLE",
    };

    // Where each message comes from inside QEMU 7.2 (hw/virtio/vhost.c, vhost-user.c).
    private static readonly Dictionary<string, string> Callers = new()
    {
        ["GET_FEATURES"] = "vhost_dev_init -> vhost_user_get_features",
        ["GET_PROTOCOL_FEATURES"] = "vhost_user_backend_init",
        ["SET_PROTOCOL_FEATURES"] = "vhost_user_backend_init",
        ["GET_QUEUE_NUM"] = "vhost_user_backend_init",
        ["SET_OWNER"] = "vhost_dev_init -> vhost_user_set_owner",
        ["SET_VRING_CALL"] = "vhost_virtqueue_init/vhost_virtqueue_mask -> vhost_user_set_vring_call",
        ["SET_VRING_ERR"] = "vhost_virtqueue_init -> vhost_user_set_vring_err",
        ["SET_FEATURES"] = "vhost_dev_start -> vhost_dev_set_features -> vhost_user_set_features",
        ["SET_MEM_TABLE"] = "vhost_dev_start -> vhost_user_set_mem_table",
        ["SET_VRING_NUM"] = "vhost_dev_start -> vhost_virtqueue_start -> vhost_user_set_vring_num",
        ["SET_VRING_BASE"] = "vhost_dev_start -> vhost_virtqueue_start -> vhost_user_set_vring_base",
        ["SET_VRING_ADDR"] = "vhost_virtqueue_start -> vhost_virtqueue_set_addr -> vhost_user_set_vring_addr",
        ["SET_VRING_KICK"] = "vhost_virtqueue_start -> vhost_user_set_vring_kick",
        ["SET_VRING_ENABLE"] = "vhost_dev_start -> vhost_user_set_vring_enable",
        ["GET_VRING_BASE"] = "vhost_dev_stop -> vhost_virtqueue_stop -> vhost_user_get_vring_base",
    };

    // The labels below are checked against real QEMU stacks by `make tour` (tools/tour, LabelCheck).
    // The interrupt starts in QEMU's main loop: from the backend's call eventfd (vhost-user), or
    // from the device model itself (virtio-rng: chr_read -> virtio_notify).
    // On virtio-mmio the transport's notify is virtio_mmio_update_irq, the status and kick
    // writes arrive through virtio_mmio_write (virt's virtio-rng-device, version 2: checked by
    // make tour ARCH=aarch64 TRANSPORT=mmio).
    private static string InterruptPath(bool vhostUser, bool mmio = false) =>
        (vhostUser ? "virtio_queue_guest_notifier_read" : "virtio_notify") + " -> virtio_irq -> virtio_notify_vector -> "
        + (mmio ? "virtio_mmio_update_irq" : "virtio_pci_notify");

    public static IReadOnlyList<TimelineEntry> Build(GuestTrace run)
    {
        var all = new List<TimelineEntry>();
        foreach (var line in run.Console) AddGuest(all, line);
        bool vhostUser = run.Events.Any(e => e.Name.StartsWith("vhost_", StringComparison.Ordinal));
        bool mmio = run.Events.Any(e => e.Name == "memory_region_ops_write" && e.Field("name") == BringUpNormalizer.VirtioMmioRegion
                                        && ((e.Number("addr") ?? 0) & 0x1ff) == 0x70);
        var causes = StatusCauses(run.Events);
        foreach (var e in run.Events) AddQemu(all, e, vhostUser, mmio, causes);
        foreach (var line in run.Backend) AddBackend(all, line);
        // The device's MSI-X messages, recognised against the table the guest programmed.
        foreach (var step in run.Analysis.MsixMessageSteps)
            all.Add(new(step.At, Layer.Qemu, TimelineKind.Interrupt, step.Key + " " + step.Detail, InterruptPath(vhostUser) + " -> msix_notify -> msi_send_message"));
        all.Sort((a, b) => a.At.CompareTo(b.At));

        // virtio-mmio has no MSI-X: virtio_mmio_update_irq raises the slot's wired line; keep the
        // first assertion after the device's first notification.
        var firstNotify = all.FirstOrDefault(e => e.Kind == TimelineKind.Call);
        if (mmio && firstNotify is not null)
        {
            var line = run.Events.FirstOrDefault(e => e.At >= firstNotify.At && IsMmioLineAssert(e));
            if (line is not null)
            {
                all.Add(new(line.At, Layer.Qemu, TimelineKind.Interrupt, $"interrupt: the virtio-mmio line asserted ({line.Name} {line.Args})",
                    InterruptPath(vhostUser, mmio: true)));
                all.Sort((a, b) => a.At.CompareTo(b.At));
            }
        }

        // Without MSI-X (a guest that polls), virtio_pci_notify raises the device's INTx line:
        // keep the first PCI INTx assertion after the backend's first call.
        var firstCall = all.FirstOrDefault(e => e.Kind == TimelineKind.Call && e.Layer == Layer.Backend);
        if (firstCall is not null && !all.Any(e => e.Kind == TimelineKind.Interrupt && e.At >= firstCall.At))
        {
            var intx = run.Events.FirstOrDefault(e => e.At >= firstCall.At && IsPciIntxAssert(e));
            if (intx is not null)
            {
                all.Add(new(intx.At, Layer.Qemu, TimelineKind.Interrupt,
                    $"interrupt: INTx line asserted ({intx.Name} {intx.Args}); the guest has not enabled MSI-X",
                    InterruptPath(vhostUser) + " -> pci_set_irq"));
                all.Sort((a, b) => a.At.CompareTo(b.At));
            }
        }

        // One request, followed through: the backend's first kick (or, if QEMU serves the queue,
        // QEMU's), the completion after it, the call after that, the interrupt after that.
        // The timeline ends there; a guest that polls may never ask for the call: then it is
        // returned whole.
        int kick = all.FindIndex(e => e.Kind == TimelineKind.Kick && e.Layer != Layer.Guest);
        int done = kick < 0 ? -1 : all.FindIndex(kick, e => e.Kind == TimelineKind.Completion);
        int call = done < 0 ? -1 : all.FindIndex(done, e => e.Kind == TimelineKind.Call);
        int end = call < 0 ? -1 : all.FindIndex(call, e => e.Kind == TimelineKind.Interrupt);
        return end < 0 ? all : all.Take(end + 1).ToList();
    }

    private static void AddGuest(List<TimelineEntry> all, TimedLine line)
    {
        // GuestOS's narrated steps, read by their step name (the kernel's own format); its
        // first kick is the guest side of the kick.
        if (NarrationLine.Parse(line.Text) is { } step)
        {
            all.Add(new(line.At, Layer.Guest, step.Step == Step.Kick ? TimelineKind.Kick : TimelineKind.GuestStep,
                        $"{step.Device}: {Encoding.ASCII.GetString(Steps.Name(step.Step))}: {step.Text}  spec {step.Spec}", "Linux: " + step.Linux));
            return;
        }
        if (line.Text.StartsWith("LINUX-COMPARE", StringComparison.Ordinal) || line.Text.StartsWith("entropy:", StringComparison.Ordinal))
            all.Add(new(line.At, Layer.Guest, TimelineKind.GuestStep, line.Text, ""));
    }

    /// <summary>Why QEMU's device model set its status: virtio_set_status has five callers on this path.</summary>
    private enum StatusCause
    {
        GuestWrite,       // the guest's store to the status register
        TransportReset,   // after the guest wrote 0, the transport resets the device: a second event
        BusMasterOff,     // a PCI command write without bus mastering: virtio_write_config drops DRIVER_OK
        VmStateChange,    // the VM started or stopped (QEMU's start, a debugger's pause): the same status again
        MachineReset,     // QEMU's own reset (at start-up): status 0 with no guest write behind it
        Unknown,
    }

    // QEMU traces memory_region_ops_write before it calls the region's handler, so a write that
    // changed the status is the last write traced before the virtio_set_status event.
    private static Dictionary<QemuTraceEvent, StatusCause> StatusCauses(IReadOnlyList<QemuTraceEvent> events)
    {
        var causes = new Dictionary<QemuTraceEvent, StatusCause>(ReferenceEqualityComparer.Instance);
        QemuTraceEvent? lastWrite = null;    // the last write since the previous status event
        long? status = null;                 // the device's status as last traced
        bool guestReset = false;
        foreach (var e in events)
        {
            if (e.Name == "memory_region_ops_write") { lastWrite = e; continue; }
            if (e.Name != "virtio_set_status") continue;
            long val = e.Number("val") ?? -1;
            StatusCause cause =
                lastWrite is not null && IsStatusRegisterWrite(lastWrite) ? StatusCause.GuestWrite
                : guestReset ? StatusCause.TransportReset
                : lastWrite is not null && ClearsBusMaster(lastWrite) ? StatusCause.BusMasterOff
                : status is null && val == 0 ? StatusCause.MachineReset
                // Nothing written since the last status event (a debugger's pauses fall among
                // the guest's writes: those stay unexplained rather than guessed).
                : lastWrite is null && val == status ? StatusCause.VmStateChange
                : lastWrite is null && val == 0 ? StatusCause.MachineReset
                : StatusCause.Unknown;
            causes[e] = cause;
            guestReset = cause == StatusCause.GuestWrite && val == 0;
            lastWrite = null;
            status = val;
        }
        return causes;
    }

    // Status: common configuration +0x14 (virtio 1.2 §4.1.4.3), virtio-mmio +0x70 (§4.2.2).
    private static bool IsStatusRegisterWrite(QemuTraceEvent w)
    {
        string name = w.Field("name") ?? "";
        long addr = w.Number("addr") ?? -1;
        // (x86 traces the common region's addresses absolute; the region is one page.)
        return (name.StartsWith(VirtioCommonConfig.RegionPrefix, StringComparison.Ordinal) && (addr & 0xfff) == 0x14)
            || (name == BringUpNormalizer.VirtioMmioRegion && (addr & 0x1ff) == 0x70);
    }

    // An ECAM write to a function's Command register (offset 4) with Bus Master Enable (bit 2) clear.
    private static bool ClearsBusMaster(QemuTraceEvent w) =>
        w.Field("name") == "pcie-mmcfg-mmio" && ((w.Number("addr") ?? -1) & 0xfff) == 4 && ((w.Number("value") ?? 0) & 4) == 0;

    private static void AddQemu(List<TimelineEntry> all, QemuTraceEvent e, bool vhostUser, bool mmio, Dictionary<QemuTraceEvent, StatusCause> causes)
    {
        switch (e.Name)
        {
            case "virtio_set_status":
                long val = e.Number("val") ?? 0;
                string write = mmio ? "virtio_mmio_write" : "virtio_pci_common_write";
                string reset = mmio ? "virtio_mmio_soft_reset" : "virtio_pci_reset";
                (string text, string function) = causes.GetValueOrDefault(e, StatusCause.Unknown) switch
                {
                    StatusCause.GuestWrite => ("", write + " -> virtio_set_status -> " + (!vhostUser ? "virtio_rng_set_status"
                        : "vu_rng_set_status" + ((val & VirtioCommonConfig.DriverOk) != 0 ? " -> vu_rng_start" : ""))),
                    StatusCause.TransportReset => (" (the transport's reset after the guest wrote 0)", write + " -> " + reset + " -> virtio_bus_reset -> virtio_reset -> virtio_set_status"),
                    StatusCause.BusMasterOff => (" (a PCI command write without bus mastering)", "virtio_write_config -> virtio_set_status"),
                    StatusCause.VmStateChange => (" again (the VM started or stopped)", "vm_state_notify -> virtio_vmstate_change -> virtio_set_status"),
                    StatusCause.MachineReset => (" (QEMU's own reset, not a guest write)", "virtio_bus_reset -> virtio_reset -> virtio_set_status"),
                    _ => (" (no write traced that explains it)", "virtio_set_status"),
                };
                all.Add(new(e.At, Layer.Qemu, TimelineKind.StatusWrite, "status " + VirtioCommonConfig.DescribeStatus(val) + text, function));
                break;
            case "vhost_dev_start":
                all.Add(new(e.At, Layer.Qemu, TimelineKind.VhostDevStart, "vhost_dev_start " + e.Args, "vu_rng_set_status -> vu_rng_start -> vhost_dev_start"));
                break;
            case "vhost_user_write":
                long req = e.Number("req") ?? -1;
                string name = Requests.GetValueOrDefault(req, $"request {req}");
                all.Add(new(e.At, Layer.Qemu, TimelineKind.VhostUserMessage, $"sends VHOST_USER_{name} ({e.Args})",
                    Callers.GetValueOrDefault(name, "vhost_user_*") + " -> vhost_user_write"));
                break;
            case "virtio_queue_notify":
                all.Add(new(e.At, Layer.Qemu, TimelineKind.Kick, $"queue {e.Number("n")} notified",
                    mmio && !vhostUser ? "virtio_mmio_write -> virtio_queue_notify" : "virtio_queue_host_notifier_read -> virtio_queue_notify_vq"));
                break;
            case "virtio_rng_pushed":
                all.Add(new(e.At, Layer.Qemu, TimelineKind.Completion, e.Args, "chr_read -> virtqueue_push"));
                break;
            case "virtio_notify":
                all.Add(new(e.At, Layer.Qemu, TimelineKind.Call, "device notifies the guest", InterruptPath(vhostUser: false, mmio)));
                break;
        }
    }

    private static void AddBackend(List<TimelineEntry> all, TimedLine line)
    {
        string text = line.Text;
        if (text.Contains("VHOST_USER_", StringComparison.Ordinal))
            all.Add(new(line.At, Layer.Backend, TimelineKind.BackendMessage, text, "Connection -> VhostUserSession (message handler)"));
        else if (text.EndsWith(": kick", StringComparison.Ordinal))
            all.Add(new(line.At, Layer.Backend, TimelineKind.Kick, text, "guest notify write -> QEMU ioeventfd = the kick eventfd -> EventLoop -> VhostUserSession.OnKick"));
        else if (text.Contains("buffer(s) filled", StringComparison.Ordinal))
            all.Add(new(line.At, Layer.Backend, TimelineKind.Completion, text, "RngDevice.Serve -> SplitRing.AddUsed/PublishUsed"));
        else if (text.EndsWith(": call", StringComparison.Ordinal))
            all.Add(new(line.At, Layer.Backend, TimelineKind.Call, text, "EventFd.Signal(call fd) -> QEMU virtio_queue_guest_notifier_read"));
    }

    /// <summary>
    /// A PCI interrupt line going high: x86 IOAPIC inputs 16-23 are the PCI INTx lines on q35;
    /// on virt, PCIe INTA-D are SPIs 3-6, GIC interrupt ids 35-38.
    /// </summary>
    private static bool IsPciIntxAssert(QemuTraceEvent e) => e.Name switch
    {
        "ioapic_set_irq" => e.Number("level") == 1 && e.Number("vector") is >= 16 and <= 23,
        "gic_set_irq" => e.Number("level") == 1 && e.Number("irq") is >= 35 and <= 38,
        _ => false,
    };

    // virt's virtio-mmio slots are SPIs 16-47 (GIC interrupt ids 48-79); microvm's go to its IOAPICs.
    private static bool IsMmioLineAssert(QemuTraceEvent e) => e.Name switch
    {
        "gic_set_irq" => e.Number("level") == 1 && e.Number("irq") is >= 48 and <= 79,
        "ioapic_set_irq" => e.Number("level") == 1,
        _ => false,
    };

    public static string Render(IReadOnlyList<TimelineEntry> entries, double origin)
    {
        var sb = new StringBuilder();
        foreach (var e in entries)
        {
            string at = ((e.At - origin) * 1000).ToString("0.000", CultureInfo.InvariantCulture).PadLeft(10);
            string layer = e.Layer switch { Layer.Guest => "guest  ", Layer.Qemu => "qemu   ", _ => "backend" };
            sb.AppendLine($"{at} ms  {layer}  {e.Text}");
            if (e.Function.Length > 0) sb.AppendLine($"{"",14}  {"",7}    = {e.Function}");
        }
        return sb.ToString();
    }
}
