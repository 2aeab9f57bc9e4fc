namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// The device's maximum queue size is what queue_size reads before the driver writes it
/// (virtio-pci, 4.1.4.3) or what QueueNumMax reads (virtio-mmio, 4.2.2.2); the driver may
/// choose less, never more. virtio-pci states this in the field's definition, virtio-mmio as a MUST.
/// </summary>
public sealed class QueueSizeNotAboveMax : SpecRule
{
    public override string Id => "queue-size-not-above-max";
    public override string Section => "4.1.4.3, 4.2.2.2";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "The driver MUST write a value to QueueNum which is less than or equal to the value presented by the device in QueueNumMax.";
    public override string Needs => "memory_region_ops_read/write on queue_size (QueueNumMax and QueueNum on mmio)";

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        bool judged = false;
        foreach (var session in trace.Sessions())
        {
            var max = new Dictionary<long, DeviceEvent>();   // queue -> the read that gave the maximum
            var written = new HashSet<long>();
            foreach (var e in session)
            {
                bool maxRead = trace.Transport == Transport.Mmio ? e.IsRead(Register.QueueSizeMax) : e.IsRead(Register.QueueSize) && !written.Contains(e.Queue);
                if (maxRead) max.TryAdd(e.Queue, e);
                if (!e.IsWrite(Register.QueueSize)) continue;
                written.Add(e.Queue);
                if (!max.TryGetValue(e.Queue, out var limit)) continue;
                judged = true;
                if (e.Value > limit.Value) findings.Add(new($"queue {e.Queue}: queue_size {e.Value} is above the device's maximum {limit.Value}", [limit, e]));
            }
        }
        return judged || findings.Count > 0 ? Result(findings) : NotObservable("no queue_size was written after the device's maximum was read");
    }
}
