namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 5.4.6.1: every buffer on the entropy device's request queue is device-writable. QEMU's
/// virtqueue_pop reports each buffer its device model takes, with its device-writable (in_num)
/// and device-readable (out_num) descriptor counts. With vhost-user the backend takes the
/// buffers and QEMU sees none; QEMU's virtio-rng takes buffers only while it has bytes to give,
/// and a queue of device-readable buffers alone asks for none, so it is never popped.
/// </summary>
public sealed class EntropyDeviceWritable : SpecRule
{
    public override string Id => "entropy-device-writable";
    public override string Section => "5.4.6.1";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST NOT place driver-readable buffers into the queue.";
    public override string Needs => "virtqueue_pop for the device's queue (QEMU's own virtio-rng only)";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var pops = trace.Events.Where(e => e.Kind == DeviceEventKind.Pop).ToList();
        if (pops.Count == 0)
            return NotObservable("QEMU's device model took no buffer (with vhost-user the backend takes them; QEMU's virtio-rng skips a queue with no device-writable bytes)");
        return Result(pops.Where(e => e.Value > 0)
                          .Select(e => new Finding($"queue {e.Queue}: a buffer with {e.Value} device-readable descriptor(s)", [e])).ToList());
    }
}
