namespace GuestOS.Tour;

/// <summary>Which entropy device the tour's guest gets: virtio-pci (vhost-user or QEMU's), or QEMU's on virt's virtio-mmio (version 2).</summary>
public enum TourRng { VhostUser, Builtin, BuiltinMmio }

/// <summary>Where a step shows the guest's own stack: beside the store that enters QEMU, or before the interrupt the guest takes.</summary>
public enum GuestView { None, Store, Interrupt }

/// <summary>The part of the path a step belongs to, in the order the tour prints them.</summary>
public enum ChainGroup { DriverOk, ToBackend, DeviceCreation, WayBack }

/// <summary>
/// One QEMU function of the virtio-rng path. <paramref name="Under"/> names the chain function
/// that must be further out on its stack (its caller, possibly through helpers): the tour shows
/// the hit that is on the path, and says whether the stack confirms the call.
/// </summary>
/// With <paramref name="OnlyUnder"/>, hits outside <paramref name="Under"/> are not even recorded.
public sealed record ChainStep(ChainGroup Group, string Function, string? Under, string Why, bool OnlyUnder = false, GuestView Guest = GuestView.None)
{
    /// <summary>The breakpoint as tools/tour/tour.py takes it: "function", or "function@caller".</summary>
    public string Breakpoint => OnlyUnder ? $"{Function}@{Under}" : Function;
}

/// <summary>The path issue 14 describes, for each device (QEMU 7.2's function names).</summary>
public static class TourChain
{
    public static string Title(ChainGroup group, TourRng rng = TourRng.Builtin) => group switch
    {
        ChainGroup.DriverOk => rng == TourRng.BuiltinMmio ? "guest -> QEMU: the driver's DRIVER_OK store (Status, 0x070 = 0x0f)"
                                                          : "guest -> QEMU: the driver's DRIVER_OK store (common+0x14 = 0x0f)",
        ChainGroup.ToBackend => "QEMU -> backend: starting the vhost-user device",
        ChainGroup.DeviceCreation => "device creation (QEMU start-up)",
        _ => "the way back: completion -> interrupt",
    };

    public static IReadOnlyList<ChainStep> For(TourRng rng) => rng switch
    {
        TourRng.VhostUser => VhostUser,
        TourRng.Builtin => Builtin,
        _ => BuiltinMmio,
    };

    /// <summary>The chain's step where the guest's store enters QEMU (its stack shows the guest's side too).</summary>
    public static ChainStep Store(TourRng rng) => For(rng).First(s => s.Guest == GuestView.Store);

    private static readonly ChainStep[] DriverOkStore =
    [
        new(ChainGroup.DriverOk, "virtio_pci_common_write", null, "the MMIO handler of the common configuration BAR region", Guest: GuestView.Store),
        new(ChainGroup.DriverOk, "virtio_set_status", "virtio_pci_common_write", "device_status written: the transport-independent status change"),
    ];

    private static readonly ChainStep[] Creation =
    [
        new(ChainGroup.DeviceCreation, "virtio_pci_realize", null, "the PCI proxy: BARs, capabilities, MSI-X"),
        new(ChainGroup.DeviceCreation, "virtio_device_realize", null, "the virtio device inside the proxy"),
        new(ChainGroup.DeviceCreation, "virtio_bus_device_plugged", "virtio_device_realize", "the device meets its transport"),
        new(ChainGroup.DeviceCreation, "virtio_pci_device_plugged", "virtio_bus_device_plugged", "the PCI transport sets up the modern capabilities"),
    ];

    private static readonly IReadOnlyList<ChainStep> VhostUser =
    [
        .. DriverOkStore,
        new(ChainGroup.DriverOk, "vu_rng_set_status", "virtio_set_status", "vhost-user-rng's status hook"),
        new(ChainGroup.DriverOk, "vu_rng_start", "vu_rng_set_status", "DRIVER_OK: start the backend"),
        new(ChainGroup.DriverOk, "virtio_pci_set_guest_notifiers", "vu_rng_start", "call eventfds for the queue's vector"),
        new(ChainGroup.DriverOk, "vhost_dev_enable_notifiers", "vu_rng_start", "the guest's notify writes become the kick eventfd"),
        new(ChainGroup.DriverOk, "virtio_pci_ioeventfd_assign", "vhost_dev_enable_notifiers", "an ioeventfd on the notify address"),
        new(ChainGroup.DriverOk, "msix_set_vector_notifiers", "virtio_pci_set_guest_notifiers", "MSI-X mask/unmask follow the vectors"),
        new(ChainGroup.DriverOk, "virtio_pci_vector_poll", "msix_set_vector_notifiers", "pending notifications of masked vectors"),
        new(ChainGroup.ToBackend, "vhost_dev_start", "vu_rng_start", "features, memory table, rings to the backend"),
        new(ChainGroup.ToBackend, "vhost_virtqueue_start", "vhost_dev_start", "one ring: size, base, addresses, kick"),
        new(ChainGroup.ToBackend, "vhost_user_set_vring_base", "vhost_virtqueue_start", "VHOST_USER_SET_VRING_BASE"),
        new(ChainGroup.ToBackend, "vhost_user_write", "vhost_user_set_vring_base", "the message onto the socket"),
        new(ChainGroup.ToBackend, "tcp_chr_write", "vhost_user_write", "the socket chardev's write (hits for QEMU's gdbstub, also a socket, are not recorded)", OnlyUnder: true),
        .. Creation,
        new(ChainGroup.WayBack, "virtio_queue_guest_notifier_read", null, "the backend's call eventfd read in QEMU's main loop (TCG: no irqfd)"),
        new(ChainGroup.WayBack, "virtio_notify_vector", "virtio_queue_guest_notifier_read", "the queue's vector"),
        new(ChainGroup.WayBack, "virtio_pci_notify", "virtio_notify_vector", "the PCI transport's interrupt"),
        new(ChainGroup.WayBack, "msix_notify", "virtio_pci_notify", "the MSI-X vector's message", Guest: GuestView.Interrupt),
        new(ChainGroup.WayBack, "msi_send_message", "msix_notify", "the message written to the interrupt controller's doorbell"),
    ];

    private static readonly IReadOnlyList<ChainStep> Builtin =
    [
        .. DriverOkStore,
        new(ChainGroup.DriverOk, "virtio_rng_set_status", "virtio_set_status", "virtio-rng's status hook: serve what is queued"),
        .. Creation,
        new(ChainGroup.WayBack, "virtio_queue_notify_vq", "virtio_queue_host_notifier_read", "the guest's kick: its notify write signalled the ioeventfd set at DRIVER_OK"),
        new(ChainGroup.WayBack, "chr_read", null, "entropy arrived from the rng backend"),
        new(ChainGroup.WayBack, "virtqueue_push", "chr_read", "the buffer returned to the used ring"),
        new(ChainGroup.WayBack, "virtio_notify", "chr_read", "the device decides to interrupt (EVENT_IDX)"),
        new(ChainGroup.WayBack, "virtio_notify_vector", "virtio_notify", "the queue's vector"),
        new(ChainGroup.WayBack, "virtio_pci_notify", "virtio_notify_vector", "the PCI transport's interrupt"),
        new(ChainGroup.WayBack, "msix_notify", "virtio_pci_notify", "the MSI-X vector's message", Guest: GuestView.Interrupt),
        new(ChainGroup.WayBack, "msi_send_message", "msix_notify", "the message written to the interrupt controller's doorbell"),
    ];

    /// <summary>
    /// QEMU's virtio-rng-device on one of virt's virtio-mmio slots (hw/virtio/virtio-mmio.c): every
    /// register store enters virtio_mmio_write, which sets the status and takes the kick itself
    /// (no ioeventfd under TCG); the interrupt is the slot's wired line, which
    /// virtio_mmio_update_irq sets from InterruptStatus (no MSI-X). virt creates its 32 proxies at
    /// machine creation, the device then plugs into one of them.
    /// </summary>
    private static readonly IReadOnlyList<ChainStep> BuiltinMmio =
    [
        new(ChainGroup.DriverOk, "virtio_mmio_write", null, "the MMIO handler of the virtio-mmio register window", Guest: GuestView.Store),
        new(ChainGroup.DriverOk, "virtio_set_status", "virtio_mmio_write", "Status written: the transport-independent status change"),
        new(ChainGroup.DriverOk, "virtio_rng_set_status", "virtio_set_status", "virtio-rng's status hook: serve what is queued"),
        new(ChainGroup.DeviceCreation, "virtio_mmio_realizefn", null, "a virtio-mmio proxy: its register window and interrupt line (virt makes 32)"),
        new(ChainGroup.DeviceCreation, "virtio_device_realize", null, "the virtio device"),
        new(ChainGroup.DeviceCreation, "virtio_bus_device_plugged", "virtio_device_realize", "the device meets its transport"),
        new(ChainGroup.DeviceCreation, "virtio_mmio_pre_plugged", "virtio_bus_device_plugged", "the proxy offers VERSION_1 (force-legacy=false)"),
        new(ChainGroup.WayBack, "virtio_queue_notify", "virtio_mmio_write", "the guest's kick: its store to QueueNotify"),
        new(ChainGroup.WayBack, "chr_read", null, "entropy arrived from the rng backend"),
        new(ChainGroup.WayBack, "virtqueue_push", "chr_read", "the buffer returned to the used ring"),
        new(ChainGroup.WayBack, "virtio_notify", "chr_read", "the device decides to interrupt (EVENT_IDX)"),
        new(ChainGroup.WayBack, "virtio_notify_vector", "virtio_notify", "the transport's notify"),
        new(ChainGroup.WayBack, "virtio_mmio_update_irq", "virtio_notify_vector", "the slot's wired line follows InterruptStatus", Guest: GuestView.Interrupt),
    ];

    /// <summary>
    /// The guest's breakpoints, by NativeAOT symbol suffix (kernel_&lt;Namespace&gt;_&lt;Type&gt;__&lt;Method&gt;).
    /// The store is seen twice: on entry to vp_modern_set_status (its status argument), and at the
    /// one-byte accessor itself (boot/&lt;arch&gt;/io.S iowrite8) when virtio_add_status is on the stack:
    /// ilc compiles the transport's set_status and vp_modern_set_status's call to Io.iowrite8 as tail
    /// calls, so at the store neither is a frame (Linux's vp_set_status is a tail call the same way).
    /// The interrupt: VirtioDevice.virtio_interrupt, where every transport's handler hands it to the device.
    /// </summary>
    public const string GuestStore = "iowrite8";
    public const string GuestStoreCaller = "__virtio_add_status";
    public const string GuestStatusWrite = "__vp_modern_set_status";
    public const string GuestInterrupt = "__virtio_interrupt";
}
