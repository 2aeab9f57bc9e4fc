using System;
using GuestOS.Hal;
using GuestOS.Drivers.Narration;

namespace GuestOS.Drivers.Virtio
{
    // The generic part of bringing a virtio device up (virtio 1.2 §3.1.1 "Driver Requirements:
    // Device Initialization"), as Linux's drivers/virtio/virtio.c (virtio_dev_probe,
    // virtio_features_ok, virtio_device_ready), over whichever transport found the device
    // (VirtioTransport: virtio-pci modern or legacy, virtio-mmio version 2 or 1):
    //
    //   1. reset: write 0, wait until status reads back 0        virtio_reset_device
    //   2. ACKNOWLEDGE                                           register_virtio_device
    //   3. DRIVER                                                virtio_dev_probe
    //   4. read device features, write the accepted subset       virtio_dev_probe, finalize_features
    //   5. FEATURES_OK, then read status back: still set?        virtio_features_ok
    //   6. device-specific setup: virtqueues and interrupts      config->find_vqs
    //   7. DRIVER_OK: the device is live                         virtio_device_ready
    // On failure after step 2 the driver sets FAILED (virtio_dev_probe's error path).
    // A legacy device has no FEATURES_OK (§3.1.2): steps 5-6 are skipped without VERSION_1.
    public sealed class VirtioDevice
    {
        public VirtioTransport Transport;
        public ulong DeviceFeatures;   // offered by the device
        public ulong Features;         // negotiated (accepted by both)
        public ulong ResetTimeoutUs;   // bound on the wait for reset to complete
        public const ulong DefaultResetTimeoutUs = 1000000;   // 1 s (Linux waits forever)

        public VirtioCallbacks Callbacks;  // the driver's interrupt-time callbacks
        public VirtioIrqMode IrqMode;      // how the device interrupts us, chosen by find_vqs
        public ulong Interrupts;           // interrupt handler runs for this device
        public ulong Spurious;             // ... that found no used buffer and no config change

        private Virtqueue[] _vqs = new Virtqueue[1];

        public VirtioDevice(VirtioTransport transport)
        {
            Transport = transport;
            ResetTimeoutUs = DefaultResetTimeoutUs;
        }

        public int VirtioId { get { return Transport.VirtioId; } }

        // ---- status -------------------------------------------------------------------

        public byte virtio_get_status() { return Transport.get_status(); }

        // virtio_add_status: read the status and write it back with one more bit (one write).
        public byte virtio_add_status(byte bit)
        {
            byte status = (byte)(Transport.get_status() | bit);
            Transport.set_status(status);
            Narrate.StatusAdded(this, bit, status);
            return status;
        }

        // virtio_reset_device (§2.4, §4.1.4.3.2: "After writing 0 to device_status, the driver
        // MUST wait for a read of device_status to return 0 before reinitializing the device").
        // Bounded here: a device that never finishes is reported.
        public DriverError virtio_reset_device()
        {
            Transport.reset();
            if (DriverFaults.Fire(DriverFaults.ResetNoWait)) { Transport.set_status(VirtioStatus.ACKNOWLEDGE); return DriverError.Ok; }
            ulong start = Clock.NowNs();
            ulong limitNs = ResetTimeoutUs * 1000;
            byte status;
            while ((status = Transport.get_status()) != 0)
            {
                if (Clock.NowNs() - start >= limitNs)
                {
                    Narrate.Error(Transport, "virtio_reset_device"u8, "reset did not complete: status still %#02x after %u us"u8, status, ResetTimeoutUs);
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
            if (!DriverFaults.Fire(DriverFaults.SkipAcknowledge)) virtio_add_status(VirtioStatus.ACKNOWLEDGE);
            virtio_add_status(VirtioStatus.DRIVER);
            return DriverError.Ok;
        }

        // Steps 4-6, Linux's virtio_dev_probe feature part with virtio_features_ok. The driver
        // declares what it cannot do without (required) and what it can use (optional); the
        // transport adds its own (VERSION_1 required on a modern interface) and the ring
        // features this stack implements.
        public DriverError virtio_negotiate(ulong driverRequired, ulong driverOptional)
        {
            ulong required = driverRequired | Transport.RequiredFeatures;
            ulong wanted = required | driverOptional | Transport.OptionalFeatures;

            if (DriverFaults.Fire(DriverFaults.FeaturesBeforeRead)) Transport.finalize_features(0);
            DeviceFeatures = Transport.get_features();
            Narrate.Features(this, Step.DeviceFeatures, DeviceFeatures);
            ulong missing = required & ~DeviceFeatures;
            if (missing != 0)
            {
                Narrate.MissingFeatures(this, missing);
                virtio_fail();
                return DriverError.MissingRequiredFeatures;
            }

            Features = DeviceFeatures & wanted;
            Transport.finalize_features(DriverFaults.Accept(Features));
            Narrate.Features(this, Step.DriverFeatures, Features);

            // "Legacy devices did not have FEATURES_OK" (virtio_features_ok, §3.1.2).
            if (!VirtioFeatures.Has(Features, VirtioFeatures.VIRTIO_F_VERSION_1)) return DriverError.Ok;

            // §3.1.1 steps 5-6: set FEATURES_OK, then re-read: if the bit is not there the
            // device does not support this subset and the device is unusable.
            byte written = virtio_add_status(VirtioStatus.FEATURES_OK);
            byte back = DriverFaults.Fire(DriverFaults.SkipFeaturesOkReadBack) ? written : Transport.get_status();
            if ((back & VirtioStatus.FEATURES_OK) == 0)
            {
                Narrate.Error(Transport, "virtio_features_ok"u8, "device refuses features %#x: status read back %#02x without FEATURES_OK; setting FAILED"u8, Features, back);
                virtio_fail();
                return DriverError.FeaturesRefused;
            }
            Narrate.FeaturesOkCheck(this, back);
            if (DriverFaults.Fire(DriverFaults.FeatureAfterFeaturesOk)) Transport.finalize_features(Features);
            return DriverError.Ok;
        }

        // Step 7 (§3.1.1 "device-specific setup"), Linux's virtio_find_vqs -> config->find_vqs:
        // the transport sets up every queue and the interrupts, and makes the queues live.
        public DriverError virtio_find_vqs(Virtqueue[] vqs, uint maxSize, VirtioCallbacks callbacks, bool polling)
        {
            Callbacks = callbacks;
            if (vqs.Length > _vqs.Length) _vqs = new Virtqueue[vqs.Length];
            return Transport.find_vqs(this, vqs, maxSize, polling);
        }

        // A transport's find_vqs hands each queue it set up here, so interrupts can reach it.
        public void vring_register(Virtqueue vq)
        {
            if (vq.Index >= _vqs.Length)
            {
                Virtqueue[] bigger = new Virtqueue[vq.Index + 1];
                for (int i = 0; i < _vqs.Length; i++) bigger[i] = _vqs[i];
                _vqs = bigger;
            }
            _vqs[vq.Index] = vq;
        }

        // Free queues a failed find_vqs had set up (before any was made live).
        public void vring_del_registered()
        {
            for (int i = 0; i < _vqs.Length; i++)
            {
                if (_vqs[i] == null) continue;
                _vqs[i].vring_del_virtqueue();
                _vqs[i] = null;
            }
        }

        // vring_interrupt: a used-buffer notification for queue `index`. "We can get spurious
        // callbacks" (shared vectors and lines, or a completion we already took): false when
        // nothing was in the used ring.
        public bool vring_interrupt(ushort index)
        {
            if (index >= _vqs.Length) return false;
            Virtqueue vq = _vqs[index];
            if (vq == null || vq.Broken || !vq.virtqueue_more_used()) return false;
            if (Callbacks != null) Callbacks.vq_callback(vq);
            return true;
        }

        // One interrupt from the transport (Linux: vp_vring_interrupt / vp_config_changed /
        // vm_interrupt): `queue` is the queue it stands for, AllQueues for a shared vector or
        // line (Linux walks the virtqueue list), NoQueue for the configuration vector.
        // `source` names where it came from (MSI-X entry, line) for the narration, `isr` is
        // what the transport read to acknowledge it (0 where nothing needs reading).
        public const int AllQueues = -2, NoQueue = -1;
        public void virtio_interrupt(bool config, int queue, uint source, uint isr)
        {
            Interrupts++;
            Narrate.Interrupt(this, source, isr, Interrupts);
            bool handled = false;
            if (queue == AllQueues)
            {
                for (ushort i = 0; i < _vqs.Length; i++)
                    if (vring_interrupt(i)) handled = true;
            }
            else if (queue >= 0) handled = vring_interrupt((ushort)queue);
            if (config && Callbacks != null)
            {
                Callbacks.config_changed();
                handled = true;
            }
            if (!handled) Spurious++;
        }

        // Step 8: DRIVER_OK (Linux: virtio_device_ready -> set_status).
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
            return (Transport.get_status() & VirtioStatus.DEVICE_NEEDS_RESET) != 0;
        }

        // FAILED: "something went wrong in the guest, and it has given up on the device".
        public void virtio_fail()
        {
            virtio_add_status(VirtioStatus.FAILED);
        }

        // Undo everything: reset (the device stops touching memory), then forget the queues and
        // free their rings (Linux: virtio_dev_remove -> reset, del_vqs).
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
    }

    // What a virtio driver is called back for, in interrupt context with local interrupts
    // disabled (Linux: vq->callback, and virtio_driver.config_changed).
    public abstract class VirtioCallbacks
    {
        public abstract void vq_callback(Virtqueue vq);   // the device used buffers of vq
        public abstract void config_changed();           // configuration or status changed
    }
}
