namespace GuestOS.Compare.Spec;

/// <summary>How the guest reaches the device: the register layout the decoder reads the trace with.</summary>
public enum Transport
{
    /// <summary>virtio-pci, modern interface (virtio 1.2, 4.1): struct virtio_pci_common_cfg.</summary>
    PciModern,
    /// <summary>virtio-mmio version 2 (virtio 1.2, 4.2.2): one register block.</summary>
    Mmio,
}

/// <summary>
/// The driver-visible registers, named as the virtio-pci common configuration names them; the
/// virtio-mmio registers map onto the same names (Status = device_status, QueueNum = queue_size,
/// QueueReady = queue_enable, QueueNotify = a notification) so that one rule serves both.
/// </summary>
public enum Register
{
    Other,
    DeviceFeatureSelect, DeviceFeature, DriverFeatureSelect, DriverFeature,
    MsixConfig, NumQueues, DeviceStatus,
    QueueSelect, QueueSize, QueueSizeMax, QueueMsixVector, QueueEnable, QueueNotifyOff,
    QueueDescLo, QueueDescHi, QueueDriverLo, QueueDriverHi, QueueDeviceLo, QueueDeviceHi,
}

/// <summary>What a <see cref="DeviceEvent"/> is.</summary>
public enum DeviceEventKind
{
    /// <summary>The guest read a register.</summary>
    Read,
    /// <summary>The guest wrote a register.</summary>
    Write,
    /// <summary>An available-buffer notification reached the device model (virtio_queue_notify, or an mmio QueueNotify write).</summary>
    Notify,
    /// <summary>QEMU's device model took a buffer (virtqueue_pop: in_num device-writable, out_num device-readable descriptors).</summary>
    Pop,
}

/// <summary>
/// One thing the device saw, with the trace line that shows it. <see cref="Queue"/> is the
/// queue selected when a queue register was accessed (or the queue notified); <see cref="Select"/>
/// the feature word selected for DeviceFeature/DriverFeature.
/// </summary>
public sealed record DeviceEvent(QemuTraceEvent Source, DeviceEventKind Kind, Register Register, long Value, long Queue = 0, long Select = 0)
{
    public double At => Source.At;
    public bool IsWrite(Register r) => Kind == DeviceEventKind.Write && Register == r;
    public bool IsRead(Register r) => Kind == DeviceEventKind.Read && Register == r;

    /// <summary>"write device_status = 0xf", "read queue_size (queue 0) = 0x8", "notify queue 0".</summary>
    public string Describe() => Kind switch
    {
        DeviceEventKind.Notify => $"notify queue {Queue}",
        DeviceEventKind.Pop => $"device takes a buffer from queue {Queue}: {Source.Number("in_num")} device-writable, {Source.Number("out_num")} device-readable descriptor(s)",
        _ => $"{(Kind == DeviceEventKind.Read ? "read" : "write")} {RegisterName(Register)}"
             + (Register is Register.DeviceFeature or Register.DriverFeature ? $" (word {Select})" : "")
             + (Register >= Register.QueueSize ? $" (queue {Queue})" : "")
             + $" = 0x{Value:x}",
    };

    /// <summary>The spec's field name: queue_msix_vector, device_status.</summary>
    public static string RegisterName(Register r) => r switch
    {
        Register.DeviceFeatureSelect => "device_feature_select",
        Register.DeviceFeature => "device_feature",
        Register.DriverFeatureSelect => "driver_feature_select",
        Register.DriverFeature => "driver_feature",
        Register.MsixConfig => "config_msix_vector",
        Register.NumQueues => "num_queues",
        Register.DeviceStatus => "device_status",
        Register.QueueSelect => "queue_select",
        Register.QueueSize => "queue_size",
        Register.QueueSizeMax => "QueueNumMax",
        Register.QueueMsixVector => "queue_msix_vector",
        Register.QueueEnable => "queue_enable",
        Register.QueueNotifyOff => "queue_notify_off",
        Register.QueueDescLo => "queue_desc (low)",
        Register.QueueDescHi => "queue_desc (high)",
        Register.QueueDriverLo => "queue_driver (low)",
        Register.QueueDriverHi => "queue_driver (high)",
        Register.QueueDeviceLo => "queue_device (low)",
        Register.QueueDeviceHi => "queue_device (high)",
        _ => "another register",
    };
}

/// <summary>
/// The device's side of one run, decoded from QEMU's trace: every access of the guest to the
/// device's registers, each notification, each buffer the device model took. Only the device
/// under test counts: its common-configuration region (virtio-pci-common-&lt;device&gt;), or the
/// virtio-mmio block whose DeviceID reads 4 (entropy); other virtio devices the guest has are
/// left out, by region name or by QEMU's object pointers.
/// </summary>
public sealed class DeviceTrace
{
    public Transport Transport { get; }
    public IReadOnlyList<DeviceEvent> Events { get; }

    public DeviceTrace(Transport transport, IReadOnlyList<DeviceEvent> events)
    {
        Transport = transport;
        Events = events;
    }

    /// <summary>Did the guest ever write device_status? A guest that never did has not driven the device at all.</summary>
    public bool Touched => Events.Any(e => e.IsWrite(Register.DeviceStatus));

    /// <summary>
    /// The trace cut at each reset (a write of 0 to device_status): each part one attempt to
    /// initialise and use the device. Events before the first reset form a part of their own.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<DeviceEvent>> Sessions()
    {
        var sessions = new List<IReadOnlyList<DeviceEvent>>();
        var current = new List<DeviceEvent>();
        foreach (var e in Events)
        {
            if (e.IsWrite(Register.DeviceStatus) && e.Value == 0 && current.Count > 0)
            {
                sessions.Add(current);
                current = [];
            }
            current.Add(e);
        }
        if (current.Count > 0) sessions.Add(current);
        return sessions;
    }

    /// <summary>The device feature words as the device offered them (word -> value), from every read.</summary>
    public IReadOnlyDictionary<long, (long Value, DeviceEvent Evidence)> OfferedFeatures()
    {
        var offered = new Dictionary<long, (long, DeviceEvent)>();
        foreach (var e in Events.Where(e => e.IsRead(Register.DeviceFeature)))
            offered.TryAdd(e.Select, (e.Value, e));
        return offered;
    }

    /// <summary>The features the driver accepted in a session: the last value written to each word.</summary>
    public static ulong Accepted(IEnumerable<DeviceEvent> session)
    {
        ulong features = 0;
        foreach (var e in session.Where(e => e.IsWrite(Register.DriverFeature) && e.Select is 0 or 1))
            features = (features & ~(0xffffffffUL << (int)(32 * e.Select))) | ((ulong)(uint)e.Value << (int)(32 * e.Select));
        return features;
    }

    /// <param name="device">QEMU's name of the virtio device (virtio_id_to_name): "virtio-rng", for vhost-user-rng-pci as well.</param>
    public static DeviceTrace Decode(IEnumerable<QemuTraceEvent> events, Transport transport, string device = "virtio-rng") =>
        transport == Transport.PciModern ? PciModernDecoder.Decode(events, device) : MmioDecoder.Decode(events);
}
