using static GuestOS.Compare.VirtioCommonConfig;

namespace GuestOS.Compare.Spec;

/// <summary>
/// virtio-pci modern: the guest's accesses to struct virtio_pci_common_cfg (4.1.4.3), seen as
/// memory_region_ops_read/write on the region QEMU names "virtio-pci-common-&lt;device&gt;"
/// (offset = address mod 4 KiB, see <see cref="VirtioCommonConfig"/>); notifications and popped
/// buffers by QEMU's virtio_queue_notify and virtqueue_pop for this device's own objects.
/// </summary>
public static class PciModernDecoder
{
    public static DeviceTrace Decode(IEnumerable<QemuTraceEvent> events, string device)
    {
        string region = RegionPrefix + device;
        var decoded = new List<DeviceEvent>();
        var pointers = new DevicePointers();
        var selectors = new RegisterSelectors();
        foreach (var e in events)
        {
            if (pointers.Match(e, decoded) is { } other)
            {
                decoded.Add(other);
                continue;
            }
            if (e.Name is not ("memory_region_ops_read" or "memory_region_ops_write") || e.Field("name") != region) continue;
            bool write = e.Name.EndsWith("write", StringComparison.Ordinal);
            long value = e.Number("value") ?? 0;
            var register = (int)((e.Number("addr") ?? 0) & 0xfff) switch
            {
                DeviceFeatureSelect => Register.DeviceFeatureSelect,
                DeviceFeature => Register.DeviceFeature,
                DriverFeatureSelect => Register.DriverFeatureSelect,
                DriverFeature => Register.DriverFeature,
                MsixConfig => Register.MsixConfig,
                NumQueues => Register.NumQueues,
                DeviceStatus => Register.DeviceStatus,
                QueueSelect => Register.QueueSelect,
                QueueSize => Register.QueueSize,
                QueueMsixVector => Register.QueueMsixVector,
                QueueEnable => Register.QueueEnable,
                QueueNotifyOff => Register.QueueNotifyOff,
                QueueDesc => Register.QueueDescLo,
                QueueDesc + 4 => Register.QueueDescHi,
                QueueDriver => Register.QueueDriverLo,
                QueueDriver + 4 => Register.QueueDriverHi,
                VirtioCommonConfig.QueueDevice => Register.QueueDeviceLo,
                VirtioCommonConfig.QueueDevice + 4 => Register.QueueDeviceHi,
                _ => Register.Other,
            };
            decoded.Add(selectors.Access(e, write, register, value));
        }
        return new DeviceTrace(Transport.PciModern, decoded);
    }
}

/// <summary>
/// Recognises this device's own notifications and popped buffers among every virtio device's:
/// QEMU names the device by a pointer (vdev) in virtio_set_status, which follows the guest's
/// device_status write at once, and each queue by a pointer (vq) in virtio_queue_notify.
/// </summary>
internal sealed class DevicePointers
{
    private string? vdev;
    private readonly Dictionary<string, long> queues = [];

    /// <summary>The notify or pop <paramref name="e"/> stands for, if it is this device's; learns the pointers on the way.</summary>
    public DeviceEvent? Match(QemuTraceEvent e, IReadOnlyList<DeviceEvent> decodedSoFar)
    {
        switch (e.Name)
        {
            case "virtio_set_status" when vdev is null && decodedSoFar.Count > 0 && decodedSoFar[^1].IsWrite(Register.DeviceStatus):
                vdev = e.Field("vdev");
                return null;
            case "virtio_queue_notify" when vdev is not null && e.Field("vdev") == vdev:
                long n = e.Number("n") ?? 0;
                if (e.Field("vq") is { } notified) queues[notified] = n;
                return new DeviceEvent(e, DeviceEventKind.Notify, Register.Other, n, n);
            case "virtqueue_pop" when e.Field("vq") is { } vq && queues.TryGetValue(vq, out long queue):
                return new DeviceEvent(e, DeviceEventKind.Pop, Register.Other, e.Number("out_num") ?? 0, queue);
            default:
                return null;
        }
    }
}
