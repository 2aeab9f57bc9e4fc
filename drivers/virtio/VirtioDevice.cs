using System;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;
using GuestOS.Drivers.Narration;

namespace GuestOS.Drivers.Virtio
{
    // The generic part of bringing a virtio device up (virtio 1.2 §3.1.1 "Driver Requirements:
    // Device Initialization"), as Linux's drivers/virtio/virtio.c (virtio_dev_probe,
    // virtio_features_ok, virtio_device_ready) over the virtio-pci modern transport
    // (virtio_pci_modern.c: vp_reset, vp_finalize_features, setup_vq, vp_modern_find_vqs):
    //
    //   1. reset: write 0, wait until status reads back 0        vp_reset
    //   2. ACKNOWLEDGE                                           register_virtio_device
    //   3. DRIVER                                                virtio_dev_probe
    //   4. read device features, write the accepted subset       vp_modern_get/set_features
    //   5. FEATURES_OK, then read status back: still set?        virtio_features_ok
    //   6. device-specific setup: virtqueues                     setup_vq, vp_modern_find_vqs
    //   7. DRIVER_OK: the device is live                         virtio_device_ready
    // On failure after step 2 the driver sets FAILED (virtio_dev_probe's error path).
    public sealed class VirtioDevice
    {
        public PciDevice Pci;
        public VirtioPciModern Vp;
        public ulong DeviceFeatures;   // offered by the device
        public ulong Features;         // negotiated (accepted by both)
        public ulong ResetTimeoutUs;   // bound on the wait for reset to complete
        public const ulong DefaultResetTimeoutUs = 1000000;   // 1 s (Linux waits forever)

        public VirtioPciVectors Vectors;   // how the device interrupts us (MSI-X or polling)
        public VirtioCallbacks Callbacks;  // the driver's interrupt-time callbacks

        private Virtqueue[] _vqs;

        private VirtioDevice() { }

        // virtio_pci_probe: pci_enable_device, vp_modern_probe, pci_set_master.
        public static VirtioDevice virtio_pci_probe(PciDevice pdev, out DriverError err)
        {
            VirtioDevice vdev = new VirtioDevice();
            vdev.Pci = pdev;
            vdev.ResetTimeoutUs = DefaultResetTimeoutUs;
            vdev._vqs = new Virtqueue[1];
            vdev.Vectors = new VirtioPciVectors(vdev);

            // Memory decoding on (pci_enable_device) and bus mastering (pci_set_master): the
            // device answers at its BARs and may DMA into our rings.
            AccessLog.Clear();   // the device's narrated steps start here, enumeration is not one
            Narrate.PciEnable(vdev, pdev.EnableMemoryAndBusMaster());

            err = VirtioPciModern.vp_modern_probe(pdev, out vdev.Vp);
            if (err != DriverError.Ok) return null;
            Narrate.Probe(vdev);
            return vdev;
        }

        // ---- status -------------------------------------------------------------------

        public byte virtio_get_status() { return Vp.vp_modern_get_status(); }

        // virtio_add_status: read the status and write it back with one more bit (one iowrite8).
        public byte virtio_add_status(byte bit)
        {
            byte status = (byte)(Vp.vp_modern_get_status() | bit);
            Vp.vp_modern_set_status(status);
            Narrate.StatusAdded(this, bit, status);
            return status;
        }

        // virtio_reset_device -> vp_reset (§2.4, §4.1.4.3.2: "After writing 0 to
        // device_status, the driver MUST wait for a read of device_status to return 0 before
        // reinitializing the device"). Bounded here: a device that never finishes is reported.
        public DriverError virtio_reset_device()
        {
            Vp.vp_modern_set_status(0);
            if (DriverFaults.Fire(DriverFaults.ResetNoWait)) { Vp.vp_modern_set_status(VirtioStatus.ACKNOWLEDGE); return DriverError.Ok; }
            ulong start = Clock.NowNs();
            ulong limitNs = ResetTimeoutUs * 1000;
            byte status;
            while ((status = Vp.vp_modern_get_status()) != 0)
            {
                if (Clock.NowNs() - start >= limitNs)
                {
                    Narrate.Error(Pci, "vp_reset"u8, "reset did not complete: status still %#02x after %u us"u8, status, ResetTimeoutUs);
                    return DriverError.ResetTimeout;
                }
                Clock.DelayUs(10);
            }
            Narrate.Reset(this, (Clock.NowNs() - start) / 1000);
            return DriverError.Ok;
        }

        // Steps 1-3. No single Linux function: register_virtio_device resets and acknowledges,
        // virtio_dev_probe adds DRIVER when a driver matches.
        public DriverError virtio_begin()
        {
            DriverError err = virtio_reset_device();
            if (err != DriverError.Ok) return err;
            virtio_add_status(VirtioStatus.ACKNOWLEDGE);
            virtio_add_status(VirtioStatus.DRIVER);
            return DriverError.Ok;
        }

        // Steps 4-6, Linux's virtio_dev_probe feature part with virtio_features_ok. The driver
        // declares what it cannot do without (required) and what it can use (optional); the
        // transport adds VERSION_1 (required) and the ring features it implements
        // (VirtioFeatures.TransportOptional).
        public DriverError virtio_negotiate(ulong driverRequired, ulong driverOptional)
        {
            ulong required = driverRequired | VirtioFeatures.TransportRequired;
            ulong wanted = required | driverOptional | VirtioFeatures.TransportOptional;

            DeviceFeatures = Vp.vp_modern_get_features();
            Narrate.Features(this, Step.DeviceFeatures, DeviceFeatures);
            ulong missing = required & ~DeviceFeatures;
            if (missing != 0)
            {
                Narrate.MissingFeatures(this, missing);
                virtio_fail();
                return DriverError.MissingRequiredFeatures;
            }

            Features = DeviceFeatures & wanted;
            Vp.vp_modern_set_features(DriverFaults.Accept(Features));
            Narrate.Features(this, Step.DriverFeatures, Features);

            // §3.1.1 steps 5-6: set FEATURES_OK, then re-read: if the bit is not there the
            // device does not support this subset and the device is unusable.
            byte written = virtio_add_status(VirtioStatus.FEATURES_OK);
            byte back = DriverFaults.Fire(DriverFaults.SkipFeaturesOkReadBack) ? written : Vp.vp_modern_get_status();
            if ((back & VirtioStatus.FEATURES_OK) == 0)
            {
                Narrate.Error(Pci, "virtio_features_ok"u8, "device refuses features %#x: status read back %#02x without FEATURES_OK; setting FAILED"u8, Features, back);
                virtio_fail();
                return DriverError.FeaturesRefused;
            }
            Narrate.FeaturesOkCheck(this, back);
            if (DriverFaults.Fire(DriverFaults.FeatureAfterFeaturesOk)) Vp.vp_modern_set_features(Features);
            return DriverError.Ok;
        }

        // Step 7 (§3.1.1 "device-specific setup"), Linux's vp_find_vqs: interrupts first, then
        // every queue, then enable them all. Interrupt modes are tried best first: a vector
        // per queue plus one for configuration changes, one shared vector, polling. A mode
        // fails when the function has too few MSI-X entries, the platform no free MSI, or
        // the device reads back NO_VECTOR; nothing is enabled until a mode has worked, so
        // falling back needs no reset. vqs receives the queues 0..vqs.Length-1.
        public DriverError virtio_find_vqs(Virtqueue[] vqs, uint maxSize, VirtioCallbacks callbacks, bool polling)
        {
            Callbacks = callbacks;
            ushort nvqs = (ushort)vqs.Length;
            VirtioIrqMode mode = polling ? VirtioIrqMode.Polling : VirtioIrqMode.PerQueueVectors;
            while (true)
            {
                ReadOnlySpan<byte> why = default;
                if (mode != VirtioIrqMode.Polling && !Vectors.vp_request_msix_vectors(mode, nvqs, out why))
                {
                    Narrate.Fallback(this, mode, why);
                    mode = mode - 1;
                    continue;
                }
                if (mode != VirtioIrqMode.Polling) Narrate.Interrupts(this);
                DriverError err = DriverError.Ok;
                ushort i = 0;
                for (; i < nvqs; i++)
                {
                    err = vp_setup_vq(i, maxSize, Vectors.vp_queue_vector(i), out vqs[i]);
                    if (err != DriverError.Ok) break;
                }
                if (err != DriverError.Ok)
                {
                    for (ushort j = 0; j < i; j++) { vqs[j].vring_del_virtqueue(); vqs[j] = null; _vqs[j] = null; }
                    if (err != DriverError.NoVector) return err;
                    Vectors.vp_release_msix_vectors();
                    Narrate.Fallback(this, mode, "the device answered NO_VECTOR for a queue vector"u8);
                    mode = mode - 1;
                    continue;
                }
                if (mode == VirtioIrqMode.Polling)
                {
                    Vectors.vp_disable_msix();
                    for (i = 0; i < nvqs; i++) vqs[i].virtqueue_disable_cb();
                    Narrate.Interrupts(this);
                }
                // "Select and activate all queues. Has to be done last: once we do this, there's
                // no way to go back except reset." (vp_modern_find_vqs)
                if (DriverFaults.Fire(DriverFaults.DriverOkBeforeQueueEnable)) virtio_device_ready();
                if (DriverFaults.Fire(DriverFaults.QueueEnableZero)) Vp.vp_modern_set_queue_enable(0, false);
                for (i = 0; i < nvqs; i++) Vp.vp_modern_set_queue_enable(i, true);
                Narrate.QueuesEnabled(this, nvqs);
                return DriverError.Ok;
            }
        }

        // One queue (setup_vq of virtio_pci_modern.c), §4.1.5.1.3: select, read size, check not
        // yet enabled, allocate the ring, write size, the three area addresses and the MSI-X
        // vector (read back: NO_VECTOR means the device refused it), find the notify address.
        // Not enabled yet. maxSize caps the ring.
        private DriverError vp_setup_vq(ushort index, uint maxSize, ushort vector, out Virtqueue vq)
        {
            vq = null;
            ushort numQueues = Vp.vp_modern_get_num_queues();
            if (index >= numQueues) return setup_vq_error(index, "index >= num_queues"u8, numQueues, DriverError.QueueNotAvailable);

            ushort num = Vp.vp_modern_get_queue_size(index);
            if (num == 0) return setup_vq_error(index, "queue_size reads 0 (not available)"u8, 0, DriverError.QueueNotAvailable);
            if (Vp.vp_modern_get_queue_enable(index)) return setup_vq_error(index, "already enabled"u8, 1, DriverError.QueueAlreadyEnabled);
            if (!VringCreate.vring_size_valid(num, Features))
                return setup_vq_error(index, VringCreate.vring_size_rule(Features), num, DriverError.QueueSizeInvalid);

            uint want = num;
            if (maxSize != 0 && want > maxSize) want = maxSize;

            VirtioPciNotifier notifier = new VirtioPciNotifier();
            DriverError err;
            Virtqueue svq = VringCreate.vring_create_virtqueue(index, want, Features, notifier, out err);
            if (svq == null) return setup_vq_error(index, "cannot create ring"u8, want, err);

            // vp_active_vq: the size we really use, then where the three areas are.
            Vp.vp_modern_set_queue_size(index, DriverFaults.QueueSize((ushort)svq.Num));
            Vp.vp_modern_queue_address(index, svq.DescAreaPhys, svq.DriverAreaPhys, svq.DeviceAreaPhys);
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

            Narrate.Queue(this, svq, num, vector, notifyAddr - Vp.NotifyBase);

            if (index >= _vqs.Length)
            {
                Virtqueue[] bigger = new Virtqueue[index + 1];
                for (int i = 0; i < _vqs.Length; i++) bigger[i] = _vqs[i];
                _vqs = bigger;
            }
            _vqs[index] = svq;
            vq = svq;
            return DriverError.Ok;
        }

        // vring_interrupt: a used-buffer notification for queue `index`. "We can get spurious
        // callbacks" (shared vectors, or a completion we already took): false when nothing was
        // in the used ring.
        public bool vring_interrupt(ushort index)
        {
            if (index >= _vqs.Length) return false;
            Virtqueue vq = _vqs[index];
            if (vq == null || vq.Broken || !vq.virtqueue_more_used()) return false;
            if (Callbacks != null) Callbacks.vq_callback(vq);
            return true;
        }

        // One shared vector stands for every queue: Linux's vp_vring_interrupt walks the
        // virtqueue list and calls vring_interrupt on each, as this does.
        public bool vring_interrupt_all()
        {
            bool any = false;
            for (ushort i = 0; i < _vqs.Length; i++)
                if (vring_interrupt(i)) any = true;
            return any;
        }

        // Step 8: DRIVER_OK, one iowrite8 to device_status (common+0x14).
        public void virtio_device_ready()
        {
            if (DriverFaults.Fire(DriverFaults.NotifyBeforeDriverOk))
                for (int i = 0; i < _vqs.Length; i++) if (_vqs[i] != null) _vqs[i].virtqueue_notify();
            virtio_add_status(VirtioStatus.DRIVER_OK);
        }

        // §2.1.2: the device sets DEVICE_NEEDS_RESET when it can no longer operate; the driver
        // must reset it before using it again.
        public bool virtio_needs_reset()
        {
            return (Vp.vp_modern_get_status() & VirtioStatus.DEVICE_NEEDS_RESET) != 0;
        }

        // FAILED: "something went wrong in the guest, and it has given up on the device".
        public void virtio_fail()
        {
            virtio_add_status(VirtioStatus.FAILED);
        }

        // Undo everything: reset (the device stops touching memory), then free the rings
        // (Linux: virtio_dev_remove -> reset, del_vqs).
        public DriverError virtio_dev_remove()
        {
            DriverError err = virtio_reset_device();
            for (int i = 0; i < _vqs.Length; i++)
            {
                if (_vqs[i] == null) continue;
                if (err == DriverError.Ok) _vqs[i].vring_del_virtqueue();
                _vqs[i] = null;   // after a failed reset the memory stays allocated: the device may still write it
            }
            return err;
        }

        private DriverError setup_vq_error(ushort index, ReadOnlySpan<byte> what, ulong value, DriverError e)
        {
            Narrate.Error(Pci, "setup_vq"u8, "queue %u: %s (%u)"u8, index, what, value);
            return e;
        }
    }
}
