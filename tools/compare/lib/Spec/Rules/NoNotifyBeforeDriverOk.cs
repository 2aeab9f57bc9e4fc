namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 3.1.1: no available-buffer notification before DRIVER_OK. The bug Linux's virtio_net,
/// virtio_blk, virtio_balloon, 9p and rpmsg drivers once had (each fixed after reading code).
/// QEMU's virtio_queue_notify shows every notification that reaches the device model, whether
/// through the notify region or its ioeventfd; before DRIVER_OK no vhost-user backend has been
/// started, so QEMU sees them even with vhost-user.
/// </summary>
public sealed class NoNotifyBeforeDriverOk : SpecRule
{
    public override string Id => "no-notify-before-driver-ok";
    public override string Section => "3.1.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST NOT send any buffer available notifications to the device before setting DRIVER_OK.";
    public override string Needs => "virtio_queue_notify (mmio: the QueueNotify write), memory_region_ops_write on device_status";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        foreach (var session in trace.Sessions())
        {
            DeviceEvent? lastStatus = null;
            foreach (var e in session)
            {
                if (IsStatusWrite(e)) lastStatus = e;
                if (lastStatus is not null && (lastStatus.Value & DriverOk) != 0) break;
                if (e.Kind == DeviceEventKind.Notify)
                    findings.Add(new($"queue {e.Queue} notified while device_status is {VirtioCommonConfig.DescribeStatus(lastStatus?.Value ?? 0)}",
                                     lastStatus is null ? [e] : [lastStatus, e]));
            }
        }
        return Result(findings);
    }
}
