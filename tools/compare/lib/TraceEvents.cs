namespace GuestOS.Compare;

/// <summary>
/// The QEMU 7.2 trace events recorded (names from <c>qemu-system-x86_64 -trace help</c>).
/// QEMU 7.2 has no trace event for virtio-pci common configuration accesses
/// (virtio_pci_common_read/write are untraced), so feature selects, feature words and the
/// queue fields come from <c>memory_region_ops_read/write</c> on the region QEMU names
/// "virtio-pci-common-&lt;device&gt;"; MSI-X table programming from the "msix-table" region; and
/// each MSI-X message from the device's own memory write (cpu -1) to the programmed address.
/// </summary>
public static class TraceEvents
{
    public static readonly IReadOnlyList<string> Patterns =
    [
        "virtio_set_status",       // virtio_set_status(): every status change the device sees
        "virtio_queue_notify",     // the guest's notify (kick) reaching QEMU's device model
        "virtio_notify",           // the device model deciding to interrupt (after EVENT_IDX)
        "virtio_rng_request",      // bytes the guest has made available (all posted buffers)
        "virtio_rng_pushed",       // one buffer completed, with its byte count
        "virtqueue_pop",           // a buffer QEMU's device model took: in_num/out_num say which way its descriptors point
        "msix_write_config",       // MSI-X enable / function mask in config space
        "memory_region_ops_read",  // common config reads, MSI-X table (see above)
        "memory_region_ops_write", // common config writes, MSI-X table, MSI messages
        "vhost_dev_start",         // vu_rng_start -> vhost_dev_start
        "vhost_user_write",        // each vhost-user message QEMU sends to the backend
        "ioapic_set_irq",          // x86 INTx (when the guest has not enabled MSI-X)
        "gic_set_irq",             // aarch64 GICv2 interrupt lines (INTx and MSI SPIs)
    ];

    /// <summary>The QEMU arguments: each pattern enabled, timestamps on, output to <paramref name="file"/>.</summary>
    public static IReadOnlyList<string> QemuArguments(string file) => ["-msg", "timestamp=on", "-D", file];
}
