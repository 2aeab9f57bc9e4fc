using System;
using GuestOS.Drivers.Narration;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // The virtio-mmio transport (virtio 1.2 §4.2), both register layouts, as Linux's
    // drivers/virtio/virtio_mmio.c: version 2 (virtio 1.x: QueueReady and the three area
    // addresses) and version 1, the legacy layout QEMU still uses by default (§4.2.4:
    // GuestPageSize, QueueAlign and QueuePFN, one contiguous ring). The platform describes
    // each transport (VirtioMmioSlot: the device tree on arm64 virt, ACPI on x86 microvm);
    // one wired interrupt line serves the queues and configuration changes alike.
    public sealed class VirtioMmioTransport : VirtioTransport
    {
        public VirtioMmioSlot Slot;
        public ulong Base;              // mapped register block
        public uint Version;            // 2 modern, 1 legacy
        public uint VendorId;

        private VirtioDevice _vdev;
        private MmioIrqHandler _irq;    // attached once, kept across resets

        // virtio_mmio_probe: map the block, check magic, version and device id. Returns null
        // with Ok for an empty slot (device id 0: QEMU's placeholder, skipped quietly, as Linux
        // does), null with an error naming the slot for anything else that is not a device.
        public static VirtioMmioTransport virtio_mmio_probe(VirtioMmioSlot slot, out DriverError err)
        {
            err = DriverError.Ok;
            ulong size = slot.Size != 0 ? slot.Size : VirtioMmioRegs.VIRTIO_MMIO_SIZE;
            ulong b = Io.ioremap(slot.Phys, size);
            if (b == 0) { err = DriverError.IoremapFailed; probe_error(slot, "cannot map the register block"u8, slot.Phys); return null; }
            AccessLog.Clear();   // the device's narrated steps start here
            IoRegions.Add(b, size, IoRegionKind.VirtioMmio);

            uint magic = Io.ioread32(b + VirtioMmioRegs.VIRTIO_MMIO_MAGIC_VALUE);
            uint version = magic == VirtioMmioRegs.VIRTIO_MMIO_MAGIC ? Io.ioread32(b + VirtioMmioRegs.VIRTIO_MMIO_VERSION) : 0;
            uint id = version == 1 || version == 2 ? Io.ioread32(b + VirtioMmioRegs.VIRTIO_MMIO_DEVICE_ID) : 0;
            if (id == 0)
            {
                IoRegions.Remove(b);
                AccessLog.Clear();
                if (magic != VirtioMmioRegs.VIRTIO_MMIO_MAGIC)
                {
                    err = DriverError.MmioBadMagic;
                    probe_error(slot, "wrong magic value %#x (expected 0x74726976 \"virt\")"u8, magic);
                }
                else if (version != 1 && version != 2)
                {
                    err = DriverError.MmioBadVersion;
                    probe_error(slot, "version %u not supported (1 legacy, 2 virtio 1.x)"u8, version);
                }
                return null;    // else device id 0: an empty slot
            }

            VirtioMmioTransport t = new VirtioMmioTransport();
            t.Slot = slot;
            t.Base = b;
            t.Version = version;
            t.VirtioId = (int)id;
            t.Kind = version == 1 ? VirtioTransportKind.MmioLegacy : VirtioTransportKind.MmioModern;
            t.VendorId = Io.ioread32(b + VirtioMmioRegs.VIRTIO_MMIO_VENDOR_ID);
            // §4.2.4.2 (legacy): "The driver MUST write the guest page size ... before using
            // any of the queues"; Linux does it right here.
            if (version == 1) Io.iowrite32(b + VirtioMmioRegs.VIRTIO_MMIO_GUEST_PAGE_SIZE, VirtioMmioRegs.GUEST_PAGE_SIZE);
            Narrate.ProbeMmio(t);
            return t;
        }

        // Linux's name for the platform device: "a003e00.virtio_mmio".
        public override void WriteName() { Printk.Write("%x.virtio_mmio"u8, Slot.Phys); }

        // "We should never be setting status to 0" (vm_set_status): 0 is reset's.
        public override byte get_status() { return (byte)Io.ioread32(Base + VirtioMmioRegs.VIRTIO_MMIO_STATUS); }
        public override void set_status(byte status) { Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_STATUS, status); }
        public override void reset() { Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_STATUS, 0); }

        // vm_get_features: the high word first, then the low one.
        public override ulong get_features()
        {
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
            ulong features = (ulong)Io.ioread32(Base + VirtioMmioRegs.VIRTIO_MMIO_DEVICE_FEATURES) << 32;
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
            return features | Io.ioread32(Base + VirtioMmioRegs.VIRTIO_MMIO_DEVICE_FEATURES);
        }

        // vm_finalize_features: high word, then low word.
        public override void finalize_features(ulong features)
        {
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_DRIVER_FEATURES, (uint)(features >> 32));
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_DRIVER_FEATURES, (uint)features);
        }

        // "New virtio-mmio devices (version 2) must provide VIRTIO_F_VERSION_1" (vm_finalize_features);
        // a version 1 device is legacy: 32 feature bits, no packed ring (§2.8 needs VERSION_1).
        public override ulong RequiredFeatures { get { return Version == 2 ? VirtioFeatures.VIRTIO_F_VERSION_1 : 0; } }
        public override ulong OptionalFeatures { get { return Version == 2 ? VirtioFeatures.TransportOptional : VirtioFeatures.TransportOptional & 0xFFFFFFFF; } }

        // vm_generation; vm_get: a legacy device's configuration is read a byte at a time.
        public override uint config_generation() { return Version == 1 ? 0 : Io.ioread32(Base + VirtioMmioRegs.VIRTIO_MMIO_CONFIG_GENERATION); }
        public override byte config_read8(uint offset) { return Io.ioread8(Base + VirtioMmioRegs.VIRTIO_MMIO_CONFIG + (offset & 0xFF)); }
        public override uint config_read32(uint offset)
        {
            ulong at = Base + VirtioMmioRegs.VIRTIO_MMIO_CONFIG + (offset & 0xFC);
            if (Version == 2) return Io.ioread32(at);
            uint v = 0;
            for (uint i = 0; i < 4; i++) v |= (uint)Io.ioread8(at + i) << (int)(8 * i);
            return v;
        }

        // vm_find_vqs: the interrupt line first (request_irq), then every queue, each live as
        // soon as it is set up. Without a line (or with `polling`) the driver polls.
        public override DriverError find_vqs(VirtioDevice vdev, Virtqueue[] vqs, uint maxSize, bool polling)
        {
            _vdev = vdev;
            vdev.IrqMode = VirtioIrqMode.Polling;
            if (!polling)
            {
                if (_irq == null && Slot.Irq.Valid)
                {
                    MmioIrqHandler h = new MmioIrqHandler();
                    h.Owner = this;
                    if (Irq.AttachWired(Slot.Irq, h)) _irq = h;
                }
                if (_irq != null) vdev.IrqMode = VirtioIrqMode.Wired;
                else Narrate.Fallback(vdev, VirtioIrqMode.Wired, Slot.Irq.Valid ? "the platform cannot attach its interrupt line"u8 : "the platform describes no interrupt line"u8);
            }
            Narrate.Interrupts(vdev);
            for (ushort i = 0; i < vqs.Length; i++)
            {
                DriverError err = vm_setup_vq(vdev, i, maxSize, out vqs[i]);
                if (err != DriverError.Ok)
                {
                    vdev.vring_del_registered();
                    return err;
                }
                if (vdev.IrqMode == VirtioIrqMode.Polling) vqs[i].virtqueue_disable_cb();
            }
            return DriverError.Ok;
        }

        // vm_setup_vq (§4.2.3.2; legacy §4.2.4.3): select; the queue must not be live yet;
        // QueueNumMax; the ring; QueueNum; then version 2: the three areas and QueueReady = 1,
        // version 1: QueueAlign and the ring's page number in QueuePFN.
        private DriverError vm_setup_vq(VirtioDevice vdev, ushort index, uint maxSize, out Virtqueue vq)
        {
            vq = null;
            ulong b = Base;
            Io.iowrite32(b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_SEL, index);
            uint live = Io.ioread32(b + (Version == 1 ? VirtioMmioRegs.VIRTIO_MMIO_QUEUE_PFN : VirtioMmioRegs.VIRTIO_MMIO_QUEUE_READY));
            if (live != 0) return setup_vq_error(index, Version == 1 ? "already live: QueuePFN is not 0"u8 : "already live: QueueReady is not 0"u8, live, DriverError.QueueAlreadyEnabled);
            uint num = Io.ioread32(b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_NUM_MAX);
            if (num == 0) return setup_vq_error(index, "QueueNumMax reads 0 (not available)"u8, 0, DriverError.QueueNotAvailable);
            // The driver chooses QueueNum up to QueueNumMax; a split ring needs a power of 2.
            uint want = num > SplitVirtqueue.VIRTQUEUE_MAX_SIZE ? SplitVirtqueue.VIRTQUEUE_MAX_SIZE : num;
            if (maxSize != 0 && want > maxSize) want = maxSize;
            if (!VirtioFeatures.Has(vdev.Features, VirtioFeatures.VIRTIO_F_RING_PACKED))
                while (!SplitVirtqueue.IsPowerOf2(want)) want &= want - 1;

            VirtioMmioNotifier notifier = new VirtioMmioNotifier();
            notifier.Addr = b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_NOTIFY;
            ulong align = Version == 1 ? VirtioMmioRegs.VIRTIO_MMIO_VRING_ALIGN : SplitVirtqueue.VRING_ALIGN;
            DriverError err;
            Virtqueue ring = VringCreate.vring_create_virtqueue(index, want, align, vdev.Features, notifier, out err);
            if (ring == null) return setup_vq_error(index, "cannot create ring"u8, want, err);

            Io.iowrite32(b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_NUM, DriverFaults.QueueSize((ushort)ring.Num, num));
            if (Version == 1)
            {
                // A 32-bit page number: the ring must lie below 16 TiB ("platform bug" in Linux).
                ulong pfn = ring.DescAreaPhys / VirtioMmioRegs.GUEST_PAGE_SIZE;
                if ((pfn >> 32) != 0 || (ring.DescAreaPhys & (VirtioMmioRegs.GUEST_PAGE_SIZE - 1)) != 0)
                {
                    ring.vring_del_virtqueue();
                    return setup_vq_error(index, "ring not expressible as a 32-bit page number at"u8, ring.DescAreaPhys, DriverError.QueueAddressInvalid);
                }
                Io.iowrite32(b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_ALIGN, (uint)VirtioMmioRegs.VIRTIO_MMIO_VRING_ALIGN);
                Io.iowrite32(b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_PFN, (uint)pfn);
            }
            else
            {
                write64(VirtioMmioRegs.VIRTIO_MMIO_QUEUE_DESC_LOW, DriverFaults.DescAddress(ring.DescAreaPhys));
                write64(VirtioMmioRegs.VIRTIO_MMIO_QUEUE_AVAIL_LOW, ring.DriverAreaPhys);
                write64(VirtioMmioRegs.VIRTIO_MMIO_QUEUE_USED_LOW, ring.DeviceAreaPhys);
                Io.iowrite32(b + VirtioMmioRegs.VIRTIO_MMIO_QUEUE_READY, 1);
            }
            Narrate.QueueMmio(vdev, this, ring, num);
            vdev.vring_register(ring);
            vq = ring;
            return DriverError.Ok;
        }

        private void write64(uint low, ulong value)
        {
            Io.iowrite32(Base + low, (uint)value);
            Io.iowrite32(Base + low + 4, (uint)(value >> 32));
        }

        // vm_interrupt: read InterruptStatus, acknowledge exactly those bits (§4.2.2: "writing
        // a value with bits set as defined in InterruptStatus ... notifies the device that
        // events causing the interrupt have been handled"), then dispatch.
        internal void vm_interrupt()
        {
            uint status = Io.ioread32(Base + VirtioMmioRegs.VIRTIO_MMIO_INTERRUPT_STATUS);
            Io.iowrite32(Base + VirtioMmioRegs.VIRTIO_MMIO_INTERRUPT_ACK, status);
            if (_vdev == null) return;
            if (status == 0) { _vdev.Spurious++; return; }
            _vdev.virtio_interrupt((status & VirtioMmioRegs.VIRTIO_MMIO_INT_CONFIG) != 0,
                                   (status & VirtioMmioRegs.VIRTIO_MMIO_INT_VRING) != 0 ? VirtioDevice.AllQueues : VirtioDevice.NoQueue,
                                   Slot.Irq.Number, status);
        }

        public override void WriteIrqDetails(VirtioIrqMode mode)
        {
            if (mode == VirtioIrqMode.Wired) WriteLine(Slot.Irq);
        }

        public override ReadOnlySpan<byte> irq_mode_name(VirtioIrqMode mode)
        {
            if (mode == VirtioIrqMode.Wired) return "its interrupt line, acknowledged through InterruptStatus and InterruptACK"u8;
            return "polling (no interrupts)"u8;
        }

        private static void probe_error(VirtioMmioSlot slot, ReadOnlySpan<byte> format, ulong value)
        {
            Printk.Write("virtio-mmio %x.virtio_mmio: "u8, slot.Phys);   // Linux: dev_warn(&pdev->dev, ...)
            Printk.Write(format, value);
            Printk.Line(" [virtio_mmio_probe]"u8);
        }

        private DriverError setup_vq_error(ushort index, ReadOnlySpan<byte> what, ulong value, DriverError e)
        {
            Narrate.Error(this, "vm_setup_vq"u8, "queue %u: %s (%#x)"u8, index, what, value);
            return e;
        }
    }

    // vm_notify: "We write the queue's selector into the notification register".
    public sealed class VirtioMmioNotifier : VirtqueueNotifier
    {
        public ulong Addr;
        public override bool Notify(ushort queueIndex)
        {
            Io.iowrite32(Addr, queueIndex);
            return true;
        }
    }

    public sealed class MmioIrqHandler : InterruptHandler
    {
        public VirtioMmioTransport Owner;
        public override void Handle() { Owner.vm_interrupt(); }
    }
}
