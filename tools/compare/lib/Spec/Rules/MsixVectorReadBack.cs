namespace GuestOS.Compare.Spec.Rules;

/// <summary>
/// 4.1.5.1.2: the device answers a vector it cannot map with NO_VECTOR (0xffff), so after writing
/// config_msix_vector or queue_msix_vector the driver reads the same field back (for the same
/// queue) before it next writes that field, changes queue_select, or sets DRIVER_OK.
/// </summary>
public sealed class MsixVectorReadBack : SpecRule
{
    public override string Id => "msix-vector-read-back";
    public override string Section => "4.1.5.1.2";
    public override RuleLevel Level => RuleLevel.Must;
    public override string SpecText => "After mapping an event to vector, the driver MUST verify success by reading the Vector field value";
    public override string Needs => "memory_region_ops_read/write on config_msix_vector, queue_msix_vector, queue_select, device_status";

    private const long NoVector = 0xffff;

    public override bool AppliesTo(Transport transport) => transport == Transport.PciModern;

    protected override RuleVerdict Evaluate(DeviceTrace trace)
    {
        var findings = new List<Finding>();
        bool judged = false;
        var pending = new List<DeviceEvent>();   // vector writes not yet read back
        void Unverified(DeviceEvent write, DeviceEvent next) =>
            findings.Add(new($"{DeviceEvent.RegisterName(write.Register)}{(write.Register == Register.QueueMsixVector ? $" (queue {write.Queue})" : "")} <- {write.Value} never read back", [write, next]));

        foreach (var e in trace.Events)
        {
            bool isVector = e.Register is Register.MsixConfig or Register.QueueMsixVector;
            if (isVector && e.Kind == DeviceEventKind.Read)
            {
                pending.RemoveAll(w => w.Register == e.Register && (e.Register == Register.MsixConfig || w.Queue == e.Queue));
                continue;
            }
            // What ends the window in which a pending write can still be verified.
            foreach (var w in pending.ToList())
            {
                bool ends = (isVector && e.Kind == DeviceEventKind.Write && w.Register == e.Register && (e.Register == Register.MsixConfig || w.Queue == e.Queue))
                            || (w.Register == Register.QueueMsixVector && e.IsWrite(Register.QueueSelect) && e.Value != w.Queue)
                            || (IsStatusWrite(e) && ((e.Value & DriverOk) != 0 || e.Value == 0));
                if (!ends) continue;
                Unverified(w, e);
                pending.Remove(w);
            }
            if (isVector && e.Kind == DeviceEventKind.Write && e.Value != NoVector)
            {
                judged = true;
                pending.Add(e);
            }
        }
        foreach (var w in pending) Unverified(w, w);
        return judged ? Result(findings) : NotObservable("the guest mapped no MSI-X vector (it uses INTx or polls)");
    }
}
