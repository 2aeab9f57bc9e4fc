using System;
using GuestOS.Drivers.Narration;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // The virtio-pci modern transport (virtio 1.2 §4.1), Linux's virtio_pci_modern.c: the
    // config ops (vp_get_status, vp_reset, vp_finalize_features, setup_vq, ...) over the
    // register library VirtioPciModern (virtio_pci_modern_dev.c).
    public sealed class VirtioPciModernTransport : VirtioPciTransport
    {
        public VirtioPciModern Vp;

        // virtio_pci_probe -> virtio_pci_modern_probe: pci_enable_device, vp_modern_probe,
        // pci_set_master. Null (and why) if the function has no usable modern interface.
        public static VirtioPciModernTransport virtio_pci_modern_probe(PciDevice pdev, out DriverError err)
        {
            VirtioPciModernTransport t = new VirtioPciModernTransport();
            t.Kind = VirtioTransportKind.PciModern;
            t.Pci = pdev;
            // Memory decoding on (pci_enable_device) and bus mastering (pci_set_master): the
            // device answers at its BARs and may DMA into our rings.
            AccessLog.Clear();   // the device's narrated steps start here, enumeration is not one
            Narrate.PciEnable(t, pdev.EnableMemoryAndBusMaster());
            err = VirtioPciModern.vp_modern_probe(pdev, out t.Vp);
            if (err != DriverError.Ok) return null;
            t.VirtioId = t.Vp.VirtioId;
            Narrate.ProbePciModern(t);
            return t;
        }

        public override byte get_status() { return Vp.vp_modern_get_status(); }
        public override void set_status(byte status) { Vp.vp_modern_set_status(status); }
        public override void reset() { Vp.vp_modern_set_status(0); }     // vp_reset; the wait is virtio_reset_device's
        public override ulong get_features() { return Vp.vp_modern_get_features(); }
        public override void finalize_features(ulong features) { Vp.vp_modern_set_features(features); }
        public override ulong RequiredFeatures { get { return VirtioFeatures.VIRTIO_F_VERSION_1; } }
        public override ulong OptionalFeatures { get { return VirtioFeatures.TransportOptional; } }
        public override uint config_generation() { return Vp.vp_modern_generation(); }
        public override byte config_read8(uint offset) { return offset < Vp.DeviceLen ? Io.ioread8(Vp.Device + offset) : (byte)0xFF; }
        public override uint config_read32(uint offset) { return offset + 4 <= Vp.DeviceLen ? Io.ioread32(Vp.Device + offset) : 0xFFFFFFFF; }
        protected override ushort config_vector(ushort vector) { return Vp.vp_modern_config_vector(vector); }
        protected override byte isr_read() { return Io.ioread8(Vp.Isr); }

        protected override void activate_vqs(ushort nvqs)
        {
            if (DriverFaults.Fire(DriverFaults.QueueEnableZero)) Vp.vp_modern_set_queue_enable(0, false);
            for (ushort i = 0; i < nvqs; i++) Vp.vp_modern_set_queue_enable(i, true);
            Narrate.QueuesEnabled(this, nvqs);
        }

        // setup_vq of virtio_pci_modern.c, §4.1.5.1.3: select, read size, check not yet
        // enabled, allocate the ring, write size, the three area addresses and the MSI-X
        // vector (read back: NO_VECTOR means the device refused it), find the notify address.
        // Not enabled yet. maxSize caps the ring.
        protected override DriverError setup_vq(VirtioDevice vdev, ushort index, uint maxSize, ushort vector, out Virtqueue vq)
        {
            vq = null;
            ushort numQueues = Vp.vp_modern_get_num_queues();
            if (index >= numQueues) return setup_vq_error(index, "index >= num_queues"u8, numQueues, DriverError.QueueNotAvailable);

            ushort num = Vp.vp_modern_get_queue_size(index);
            if (num == 0) return setup_vq_error(index, "queue_size reads 0 (not available)"u8, 0, DriverError.QueueNotAvailable);
            if (Vp.vp_modern_get_queue_enable(index)) return setup_vq_error(index, "already enabled"u8, 1, DriverError.QueueAlreadyEnabled);
            if (!VringCreate.vring_size_valid(num, vdev.Features))
                return setup_vq_error(index, VringCreate.vring_size_rule(vdev.Features), num, DriverError.QueueSizeInvalid);

            uint want = num;
            if (maxSize != 0 && want > maxSize) want = maxSize;

            VirtioPciNotifier notifier = new VirtioPciNotifier();
            DriverError err;
            Virtqueue svq = VringCreate.vring_create_virtqueue(index, want, SplitVirtqueue.VRING_ALIGN, vdev.Features, notifier, out err);
            if (svq == null) return setup_vq_error(index, "cannot create ring"u8, want, err);

            // vp_active_vq: the size we really use, then where the three areas are.
            Vp.vp_modern_set_queue_size(index, DriverFaults.QueueSize((ushort)svq.Num, num));
            Vp.vp_modern_queue_address(index, DriverFaults.DescAddress(svq.DescAreaPhys), svq.DriverAreaPhys, svq.DeviceAreaPhys);
            if (vector != VirtioPciRegs.VIRTIO_MSI_NO_VECTOR && Vp.vp_modern_queue_vector(index, vector) == VirtioPciRegs.VIRTIO_MSI_NO_VECTOR)
            {
                svq.vring_del_virtqueue();
                return DriverError.NoVector;
            }
            ulong notifyAddr;
            err = Vp.vp_modern_map_vq_notify(index, out notifyAddr);
            if (err != DriverError.Ok)
            {
                svq.vring_del_virtqueue();
                return err;
            }
            notifier.Addr = notifyAddr;

            Narrate.Queue(vdev, svq, num, vector, notifyAddr - Vp.NotifyBase);
            vdev.vring_register(svq);
            vq = svq;
            return DriverError.Ok;
        }

        private DriverError setup_vq_error(ushort index, ReadOnlySpan<byte> what, ulong value, DriverError e)
        {
            Narrate.Error(this, "setup_vq"u8, "queue %u: %s (%u)"u8, index, what, value);
            return e;
        }
    }
}
