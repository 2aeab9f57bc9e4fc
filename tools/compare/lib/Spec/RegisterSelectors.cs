namespace GuestOS.Compare.Spec;

/// <summary>
/// The selector registers both virtio register files have (4.1.4.3, 4.2.2): queue_select says
/// which queue a queue register means, device/driver_feature_select which 32-bit feature word.
/// A decoder hands every access through here, in trace order, to get it with its selection.
/// </summary>
internal sealed class RegisterSelectors
{
    private long queue, deviceFeature, driverFeature;

    public DeviceEvent Access(QemuTraceEvent e, bool write, Register register, long value)
    {
        if (write && register == Register.QueueSelect) queue = value;
        if (write && register == Register.DeviceFeatureSelect) deviceFeature = value;
        if (write && register == Register.DriverFeatureSelect) driverFeature = value;
        long select = register == Register.DeviceFeature ? deviceFeature : driverFeature;
        return new DeviceEvent(e, write ? DeviceEventKind.Write : DeviceEventKind.Read, register, value, queue, select);
    }
}
