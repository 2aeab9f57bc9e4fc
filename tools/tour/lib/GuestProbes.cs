namespace GuestOS.Tour;

/// <summary>
/// The guest a tour boots and its own breakpoints, set through QEMU's gdbstub: the status write's
/// entry (its status argument), the one-byte store itself when <see cref="StoreCaller"/> is on the
/// stack, and the interrupt handler. A recorded breakpoint name ends with one of these (GuestOS's
/// are NativeAOT symbols, kernel_&lt;Namespace&gt;_&lt;Type&gt;__&lt;Method&gt;).
/// </summary>
/// <param name="StoreIsHot">The store's accessor also serves hot paths (the UART): the status write's entry enables it for one hit.</param>
public sealed record GuestProbes(string Name, string StatusWrite, string Store, string StoreCaller, IReadOnlyList<string> Interrupt,
                                 bool StoreIsHot = false)
{
    public static readonly GuestProbes GuestOS = new("GuestOS", TourChain.GuestStatusWrite, TourChain.GuestStore,
                                                     TourChain.GuestStoreCaller, [TourChain.GuestInterrupt]);

    /// <summary>GuestOS on virtio-mmio: the transport's set_status, a 32-bit store to Status (boot/aarch64/io.S iowrite32).</summary>
    public static readonly GuestProbes GuestOSMmio = GuestOS with { StatusWrite = "_VirtioMmioTransport__set_status", Store = "iowrite32", StoreIsHot = true };

    public static GuestProbes For(TourRng rng) => rng == TourRng.BuiltinMmio ? GuestOSMmio : GuestOS;

    /// <summary>
    /// Linux 6.1 (drivers/virtio, from Debian's -dbg symbols): vp_modern_set_status, which
    /// vp_set_status reaches by a tail call; iowrite8 (lib/iomap.c) under virtio_device_ready,
    /// which is inlined into virtio-rng.ko's probe; the queue's MSI-X handler vring_interrupt
    /// (virtio_ring.ko), or vp_vring_interrupt (virtio_pci.ko) when the vectors are shared.
    /// </summary>
    public static readonly GuestProbes Linux = new("Linux", "vp_modern_set_status", "iowrite8", "virtio_device_ready",
                                                   ["vring_interrupt", "vp_vring_interrupt"]);

    /// <summary>
    /// The breakpoints as tools/tour/tour.py takes them: the status write (enabling a hot store), the store
    /// only under its caller, the handlers. <paramref name="symbol"/> names each function in the guest's symbols.
    /// </summary>
    public string[] Breakpoints(Func<string, string> symbol) =>
        [symbol(StatusWrite) + (StoreIsHot ? ">" + Store : ""), $"{Store}@{symbol(StoreCaller)}", .. Interrupt.Select(symbol)];

    public bool IsStatusWrite(string breakpoint) => breakpoint.EndsWith(StatusWrite, StringComparison.Ordinal);
    public bool IsStore(string breakpoint) => breakpoint == Store;
    public bool IsInterrupt(string breakpoint) => Interrupt.Any(i => breakpoint.EndsWith(i, StringComparison.Ordinal));
}
