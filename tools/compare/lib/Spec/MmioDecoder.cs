namespace GuestOS.Compare.Spec;

/// <summary>
/// virtio-mmio version 2 (virtio 1.2, 4.2.2): memory_region_ops_read/write on QEMU's
/// "virtio-mmio" regions. A machine has many such blocks (virt: 32) and a guest probes them all,
/// so the device under test is the block (QEMU's mr pointer) whose DeviceID (0x008) reads 4,
/// entropy. The registers map onto <see cref="Register"/>'s common-configuration names.
/// </summary>
public static class MmioDecoder
{
    public const string RegionName = "virtio-mmio";
    public const int DeviceIdOffset = 0x008, EntropyDeviceId = 4;

    private static readonly Dictionary<int, Register> Offsets = new()
    {
        [0x010] = Register.DeviceFeature, [0x014] = Register.DeviceFeatureSelect,
        [0x020] = Register.DriverFeature, [0x024] = Register.DriverFeatureSelect,
        [0x030] = Register.QueueSelect, [0x034] = Register.QueueSizeMax, [0x038] = Register.QueueSize,
        [0x044] = Register.QueueEnable, [0x070] = Register.DeviceStatus,
        [0x080] = Register.QueueDescLo, [0x084] = Register.QueueDescHi,
        [0x090] = Register.QueueDriverLo, [0x094] = Register.QueueDriverHi,
        [0x0a0] = Register.QueueDeviceLo, [0x0a4] = Register.QueueDeviceHi,
    };
    private const int QueueNotify = 0x050;

    public static DeviceTrace Decode(IEnumerable<QemuTraceEvent> events)
    {
        var list = events.ToList();
        static int Offset(QemuTraceEvent e) => (int)((e.Number("addr") ?? 0) & 0x1ff);
        string? block = list.FirstOrDefault(e => e.Name == "memory_region_ops_read" && e.Field("name") == RegionName
                                                 && Offset(e) == DeviceIdOffset && e.Number("value") == EntropyDeviceId)?.Field("mr");
        var decoded = new List<DeviceEvent>();
        var pointers = new DevicePointers();
        var selectors = new RegisterSelectors();
        foreach (var e in list)
        {
            if (pointers.Match(e, decoded) is { } other)
            {
                // With mmio the notify write itself is decoded below; QEMU's virtio_queue_notify only teaches the pointers.
                if (other.Kind == DeviceEventKind.Pop) decoded.Add(other);
                continue;
            }
            if (block is null || e.Name is not ("memory_region_ops_read" or "memory_region_ops_write") || e.Field("mr") != block) continue;
            bool write = e.Name.EndsWith("write", StringComparison.Ordinal);
            long value = e.Number("value") ?? 0;
            int offset = Offset(e);
            if (write && offset == QueueNotify)
            {
                decoded.Add(new DeviceEvent(e, DeviceEventKind.Notify, Register.Other, value, value));
                continue;
            }
            var register = Offsets.GetValueOrDefault(offset, Register.Other);
            decoded.Add(selectors.Access(e, write, register, value));
        }
        return new DeviceTrace(Transport.Mmio, decoded);
    }
}
