using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // How a device interrupts the driver, best first; a transport tries them in this order
    // (Linux's vp_find_vqs: per-queue MSI-X vectors, one shared vector, INTx) and polling is
    // GuestOS's last resort (and `rng.poll`).
    public enum VirtioIrqMode
    {
        Polling = 0,            // no interrupts: the driver polls the used ring
        Wired = 1,              // one line (PCI INTx, the virtio-mmio interrupt), acknowledged through ISR / InterruptACK
        SharedVector = 2,       // MSI-X entry 0 for the configuration and every queue
        PerQueueVectors = 3,    // MSI-X entry 0: configuration changes; entry 1 + i: queue i
    }

    // What a device-type driver needs from the register interface underneath, as Linux's
    // struct virtio_config_ops (include/linux/virtio_config.h) and rcore's `Transport` trait.
    // VirtioDevice runs the generic sequence of §3.1.1 through these; each transport maps
    // them onto its registers: VirtioPciModernTransport, VirtioPciLegacyTransport,
    // VirtioMmioTransport. An abstract class, because the kernel's corelib has no interface
    // dispatch.
    public abstract class VirtioTransport
    {
        public VirtioTransportKind Kind;
        public int VirtioId;                 // device type (§5): 4 = entropy

        // How the kernel names the device in messages: "00:01.0", "virtio_mmio@a003e00".
        public abstract void WriteName();

        // ---- virtio_config_ops -----------------------------------------------------------
        public abstract byte get_status();
        public abstract void set_status(byte status);        // one write of the whole byte
        public abstract void reset();                         // write 0; VirtioDevice waits for 0
        public abstract ulong get_features();
        public abstract void finalize_features(ulong features);

        // Feature bits this transport requires and can accept whatever the device type:
        // VERSION_1 on a modern interface, nothing above bit 31 on a legacy one.
        public abstract ulong RequiredFeatures { get; }
        public abstract ulong OptionalFeatures { get; }

        // Set up queues 0..vqs.Length-1 (rings at most maxSize entries), choose how the device
        // interrupts (polling: none) and make them live. On error the queues set up so far are
        // freed and the caller sets FAILED. There is no del_vqs: the reset that ends a device's
        // life makes it forget its queues (§2.4), VirtioDevice frees the rings, and the
        // interrupt routing stays for the next find_vqs.
        public abstract DriverError find_vqs(VirtioDevice vdev, Virtqueue[] vqs, uint maxSize, bool polling);

        // Device-specific configuration space (§2.5; §4.1.4.6, §4.2.2 offset 0x100).
        public abstract byte config_read8(uint offset);
        public abstract uint config_read32(uint offset);
        public abstract uint config_generation();             // 0 where the transport has none

        // Words for the interrupt mode in the narration, and what only this transport knows
        // about it (the MSI-X table, the line it arrives on).
        public abstract ReadOnlySpan<byte> irq_mode_name(VirtioIrqMode mode);
        public virtual void WriteIrqDetails(VirtioIrqMode mode) { }
        public virtual uint MsixTableSize { get { return 0; } }

        // ", line 48 (edge)": a wired line as the platform described it.
        protected static void WriteLine(WiredIrq irq)
        {
            Narration.Printk.Write(", line %u (%s)"u8, irq.Number, irq.Level ? (irq.ActiveLow ? "level, active low"u8 : "level"u8) : "edge"u8);
        }
    }
}
