using System;
using GuestOS.Drivers.Narration;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // The legacy virtio-pci interface (virtio 1.2 §4.1.4.8 "Legacy Interfaces: A Note on PCI
    // Device Layout"), Linux's virtio_pci_legacy.c over virtio_pci_legacy_dev.c (vp_legacy_*):
    // one register block in I/O BAR 0, 32 feature bits, no FEATURES_OK, a queue size the
    // driver cannot change, and one contiguous ring whose page number activates the queue
    // (§2.7.2: used ring at the next 4096-byte boundary). What a transitional device
    // (1af4:1000-103f) started with disable-modern=on offers.
    public sealed class VirtioPciLegacyTransport : VirtioPciTransport
    {
        // The legacy header, §4.1.4.8 (include/uapi/linux/virtio_pci.h).
        public const uint VIRTIO_PCI_HOST_FEATURES = 0;    // R  32 device feature bits
        public const uint VIRTIO_PCI_GUEST_FEATURES = 4;   // RW 32 driver feature bits
        public const uint VIRTIO_PCI_QUEUE_PFN = 8;        // RW ring page number; 0 = inactive
        public const uint VIRTIO_PCI_QUEUE_NUM = 12;       // R  16 bits: queue size (fixed)
        public const uint VIRTIO_PCI_QUEUE_SEL = 14;       // RW 16 bits
        public const uint VIRTIO_PCI_QUEUE_NOTIFY = 16;    // RW 16 bits
        public const uint VIRTIO_PCI_STATUS = 18;          // RW 8 bits
        public const uint VIRTIO_PCI_ISR = 19;             // R  8 bits, read clears
        public const uint VIRTIO_MSI_CONFIG_VECTOR = 20;   // RW 16 bits, only while MSI-X is enabled
        public const uint VIRTIO_MSI_QUEUE_VECTOR = 22;    // RW 16 bits, only while MSI-X is enabled
        public const int VIRTIO_PCI_QUEUE_ADDR_SHIFT = 12; // the PFN's page size
        public const ulong VIRTIO_PCI_VRING_ALIGN = 4096;

        public PciBar Bar0;
        private ulong _io;              // the block: an I/O port (x86) or its MMIO window (arm64)
        private bool _port;

        // virtio_pci_legacy_probe -> vp_legacy_probe: BAR 0 must be an assigned I/O BAR.
        public static VirtioPciLegacyTransport virtio_pci_legacy_probe(PciDevice pdev, out DriverError err)
        {
            err = DriverError.Ok;
            VirtioPciLegacyTransport t = new VirtioPciLegacyTransport();
            t.Kind = VirtioTransportKind.PciLegacy;
            t.Pci = pdev;
            t.VirtioId = VirtioIds.FromPci(pdev);
            PciBar bar = pdev.Bar(0);
            if (bar == null || bar.Kind != PciBarKind.Io || bar.Address == 0 || bar.Size < VIRTIO_MSI_QUEUE_VECTOR + 2)
            {
                err = DriverError.LegacyNoIoBar;
                Narrate.Error(t, "vp_legacy_probe"u8, "BAR 0 is not an assigned I/O BAR of at least 24 bytes"u8);
                return null;
            }
            AccessLog.Clear();
            Narrate.PciEnable(t, pdev.EnableIoAndBusMaster());
            t.Bar0 = bar;
            t._port = bar.PortIo;
            t._io = t._port ? bar.CpuAddress : Io.ioremap(bar.CpuAddress, bar.Size);
            if (t._io == 0) { err = DriverError.IoremapFailed; return null; }
            IoRegions.Add(t._io, bar.Size, IoRegionKind.VirtioLegacy, t._port);
            Narrate.ProbePciLegacy(t);
            return t;
        }

        public override byte get_status() { return r8(VIRTIO_PCI_STATUS); }
        public override void set_status(byte status) { w8(VIRTIO_PCI_STATUS, status); }
        public override void reset() { w8(VIRTIO_PCI_STATUS, 0); }      // vp_reset; virtio_reset_device waits
        public override ulong get_features() { return r32(VIRTIO_PCI_HOST_FEATURES); }
        public override void finalize_features(ulong features) { w32(VIRTIO_PCI_GUEST_FEATURES, (uint)features); }
        public override ulong RequiredFeatures { get { return 0; } }
        public override ulong OptionalFeatures { get { return VirtioFeatures.TransportOptional & 0xFFFFFFFF; } }
        public override uint config_generation() { return 0; }
        public override byte config_read8(uint offset) { return r8(ConfigOffset + offset); }
        public override uint config_read32(uint offset) { return r32(ConfigOffset + offset); }

        // VIRTIO_PCI_CONFIG_OFF: the device-specific part moves by 4 bytes while MSI-X is on.
        private uint ConfigOffset { get { return MsixEnabled ? 24u : 20u; } }

        // vp_legacy_config_vector.
        protected override ushort config_vector(ushort vector)
        {
            w16(VIRTIO_MSI_CONFIG_VECTOR, vector);
            return r16(VIRTIO_MSI_CONFIG_VECTOR);   // "Verify we had enough resources to assign the vector"
        }

        protected override byte isr_read() { return r8(VIRTIO_PCI_ISR); }
        protected override void activate_vqs(ushort nvqs) { }   // the PFN write in setup_vq made each live

        // setup_vq of virtio_pci_legacy.c: size (0: none) and page number (not 0: already
        // live); the ring at the device's size (a legacy queue cannot be shrunk, so maxSize does
        // not apply); its page number activates it; then the MSI-X vector, read back.
        protected override DriverError setup_vq(VirtioDevice vdev, ushort index, uint maxSize, ushort vector, out Virtqueue vq)
        {
            vq = null;
            ushort num = vp_legacy_get_queue_size(index);
            if (num == 0) return setup_vq_error(index, "queue size reads 0 (not available)"u8, 0, DriverError.QueueNotAvailable);
            if (vp_legacy_get_queue_enable(index)) return setup_vq_error(index, "already live: queue PFN is not 0"u8, 1, DriverError.QueueAlreadyEnabled);
            if (!SplitVirtqueue.IsPowerOf2(num) || num > SplitVirtqueue.VIRTQUEUE_MAX_SIZE)
                return setup_vq_error(index, "split ring size is not a power of 2 up to 32768"u8, num, DriverError.QueueSizeInvalid);

            VirtioPciNotifier notifier = new VirtioPciNotifier();
            DriverError err;
            SplitVirtqueue ring = SplitVirtqueue.vring_create_virtqueue(index, num, VirtioFeatures.Has(vdev.Features, VirtioFeatures.VIRTIO_F_EVENT_IDX),
                                                                        notifier, out err, VIRTIO_PCI_VRING_ALIGN);
            if (ring == null || ring.Num != num)
            {
                if (ring != null) ring.vring_del_virtqueue();
                return setup_vq_error(index, "cannot allocate the ring at the device's size"u8, num, err == DriverError.Ok ? DriverError.OutOfDmaMemory : err);
            }
            ulong qpfn = ring.DescPhys >> VIRTIO_PCI_QUEUE_ADDR_SHIFT;
            if ((qpfn >> 32) != 0)
            {
                ring.vring_del_virtqueue();
                return setup_vq_error(index, "ring not expressible as a 32-bit page number at"u8, ring.DescPhys, DriverError.QueueAddressInvalid);
            }

            vp_legacy_set_queue_address(index, (uint)qpfn);     // "activate the queue"
            notifier.Addr = _io + VIRTIO_PCI_QUEUE_NOTIFY;
            notifier.Port = _port;
            if (vector != VirtioPciRegs.VIRTIO_MSI_NO_VECTOR && vp_legacy_queue_vector(index, vector) == VirtioPciRegs.VIRTIO_MSI_NO_VECTOR)
            {
                vp_legacy_set_queue_address(index, 0);          // out_deactivate, then free
                ring.vring_del_virtqueue();
                return DriverError.NoVector;
            }
            Narrate.QueueLegacy(vdev, ring, (uint)qpfn, vector);
            vdev.vring_register(ring);
            vq = ring;
            return DriverError.Ok;
        }

        // ---- the register library (virtio_pci_legacy_dev.c): each queue access selects first
        private ushort vp_legacy_get_queue_size(ushort index)
        {
            w16(VIRTIO_PCI_QUEUE_SEL, index);
            return r16(VIRTIO_PCI_QUEUE_NUM);
        }

        private bool vp_legacy_get_queue_enable(ushort index)
        {
            w16(VIRTIO_PCI_QUEUE_SEL, index);
            return r32(VIRTIO_PCI_QUEUE_PFN) != 0;
        }

        private void vp_legacy_set_queue_address(ushort index, uint pfn)
        {
            w16(VIRTIO_PCI_QUEUE_SEL, index);
            w32(VIRTIO_PCI_QUEUE_PFN, pfn);
        }

        private ushort vp_legacy_queue_vector(ushort index, ushort vector)
        {
            w16(VIRTIO_PCI_QUEUE_SEL, index);
            w16(VIRTIO_MSI_QUEUE_VECTOR, vector);
            return r16(VIRTIO_MSI_QUEUE_VECTOR);   // "Flush the write out to device"
        }

        // ---- the I/O BAR: port instructions on x86, its MMIO window elsewhere (Linux: the
        // ioport_map cookie behind ioread8 and friends) ------------------------------------
        private byte r8(uint off) { return _port ? Io.inb((ushort)(_io + off)) : Io.ioread8(_io + off); }
        private ushort r16(uint off) { return _port ? Io.inw((ushort)(_io + off)) : Io.ioread16(_io + off); }
        private uint r32(uint off) { return _port ? Io.inl((ushort)(_io + off)) : Io.ioread32(_io + off); }
        private void w8(uint off, byte v) { if (_port) Io.outb((ushort)(_io + off), v); else Io.iowrite8(_io + off, v); }
        private void w16(uint off, ushort v) { if (_port) Io.outw((ushort)(_io + off), v); else Io.iowrite16(_io + off, v); }
        private void w32(uint off, uint v) { if (_port) Io.outl((ushort)(_io + off), v); else Io.iowrite32(_io + off, v); }

        private DriverError setup_vq_error(ushort index, ReadOnlySpan<byte> what, ulong value, DriverError e)
        {
            Narrate.Error(this, "setup_vq"u8, "queue %u: %s (%#x)"u8, index, what, value);
            return e;
        }
    }
}
