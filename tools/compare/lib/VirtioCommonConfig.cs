namespace GuestOS.Compare;

/// <summary>
/// struct virtio_pci_common_cfg (virtio 1.2, 4.1.4.3): the field offsets the normalizer
/// recognises. QEMU 7.2 places the common region at BAR+0 with one 4 KiB page per
/// capability, so the offset of an access is its address modulo 4 KiB.
/// </summary>
public static class VirtioCommonConfig
{
    public const int DeviceFeatureSelect = 0x00;
    public const int DeviceFeature = 0x04;
    public const int DriverFeatureSelect = 0x08;
    public const int DriverFeature = 0x0c;
    public const int MsixConfig = 0x10;
    public const int NumQueues = 0x12;
    public const int DeviceStatus = 0x14;
    public const int QueueSelect = 0x16;
    public const int QueueSize = 0x18;
    public const int QueueMsixVector = 0x1a;
    public const int QueueEnable = 0x1c;
    public const int QueueNotifyOff = 0x1e;
    public const int QueueDesc = 0x20;      // lo, hi at +4
    public const int QueueDriver = 0x28;
    public const int QueueDevice = 0x30;

    public const string RegionPrefix = "virtio-pci-common-";

    public const int Acknowledge = 1, Driver = 2, DriverOk = 4, FeaturesOk = 8, NeedsReset = 0x40, Failed = 0x80;

    /// <summary>"0x0b (ACKNOWLEDGE|DRIVER|FEATURES_OK)", "0x00 (reset)".</summary>
    public static string DescribeStatus(long status)
    {
        if (status == 0) return "0x00 (reset)";
        var names = new List<string>();
        if ((status & Acknowledge) != 0) names.Add("ACKNOWLEDGE");
        if ((status & Driver) != 0) names.Add("DRIVER");
        if ((status & FeaturesOk) != 0) names.Add("FEATURES_OK");
        if ((status & DriverOk) != 0) names.Add("DRIVER_OK");
        if ((status & NeedsReset) != 0) names.Add("NEEDS_RESET");
        if ((status & Failed) != 0) names.Add("FAILED");
        return $"0x{status:x2} ({string.Join('|', names)})";
    }
}
