using System;
using GuestOS.Drivers.Virtio;

namespace GuestOS.Drivers.Narration
{
    // Every step the boot narration reports, with the section of the virtio 1.2 spec that asks
    // for it and the Linux function that does the same. One definition for the kernel, which
    // prints the lines, and the host tools, which parse them (tools/runner/lib compiles this
    // file too: NarrationLine). A narrated line is
    //
    //   virtio 00:01.0: driver_ok: status <- DRIVER_OK (0x0f)  spec 3.1.1 step 8 [virtio_device_ready -> vp_modern_set_status] | ioread8 common+0x14 device_status = 0x0b, iowrite8 common+0x14 device_status = 0x0f
    //   <device>      : <step>   : <what it did>             SpecMarker <section>  [<Linux>]                                   AccessesMarker <every register access of the step, in order>
    //
    // Tools key on the step name, never on the text.
    public enum Step : byte
    {
        PciEnable, Probe, Reset, Acknowledge, Driver, DeviceFeatures, DriverFeatures, FeaturesOk,
        FeaturesOkCheck, Interrupts, Polling, Fallback, Queue, QueuesEnabled, DriverOk, RngReady, Kick, Completion,
        Interrupt, NeedsReset, Stalled, Failed, Removed, InterruptLine,
    }

    public static class Steps
    {
        public const int Count = (int)Step.InterruptLine + 1;

        public static ReadOnlySpan<byte> SpecMarker => "  spec "u8;
        public static ReadOnlySpan<byte> AccessesMarker => " | "u8;
        public static ReadOnlySpan<byte> AccessSeparator => ", "u8;

        public static ReadOnlySpan<byte> Name(Step s)
        {
            switch (s)
            {
                case Step.PciEnable: return "pci_enable"u8;
                case Step.Probe: return "probe"u8;
                case Step.Reset: return "reset"u8;
                case Step.Acknowledge: return "acknowledge"u8;
                case Step.Driver: return "driver"u8;
                case Step.DeviceFeatures: return "device_features"u8;
                case Step.DriverFeatures: return "driver_features"u8;
                case Step.FeaturesOk: return "features_ok"u8;
                case Step.FeaturesOkCheck: return "features_ok_check"u8;
                case Step.Queue: return "queue"u8;
                case Step.Interrupts: return "interrupts"u8;
                case Step.Polling: return "polling"u8;
                case Step.QueuesEnabled: return "queues_enabled"u8;
                case Step.Fallback: return "fallback"u8;
                case Step.DriverOk: return "driver_ok"u8;
                case Step.RngReady: return "rng_ready"u8;
                case Step.Kick: return "kick"u8;
                case Step.Completion: return "completion"u8;
                case Step.Interrupt: return "interrupt"u8;
                case Step.NeedsReset: return "needs_reset"u8;
                case Step.Stalled: return "stalled"u8;
                case Step.Failed: return "failed"u8;
                case Step.InterruptLine: return "interrupt_line"u8;
                default: return "removed"u8;
            }
        }

        // The ring's sections differ between the split (2.7) and the packed (2.8) layout, the
        // transport's between virtio-pci (4.1) and virtio-mmio (4.2), and an interrupt by a
        // wired line is acknowledged where an MSI-X one is not.
        public static ReadOnlySpan<byte> Spec(Step s, bool packed, VirtioTransportKind kind = VirtioTransportKind.PciModern, bool wired = false)
        {
            bool mmio = kind == VirtioTransportKind.MmioModern || kind == VirtioTransportKind.MmioLegacy;
            bool legacy = kind == VirtioTransportKind.PciLegacy || kind == VirtioTransportKind.MmioLegacy;
            if (mmio)
            {
                switch (s)
                {
                    case Step.Probe: return legacy ? "4.2.2, 4.2.4"u8 : "4.2.2, 4.2.3.1.1"u8;
                    case Step.Reset: return "3.1.1 step 1, 4.2.2"u8;
                    case Step.DeviceFeatures: return "3.1.1 step 4, 4.2.2"u8;
                    case Step.Queue: return legacy ? "3.1.1 step 7, 4.2.4.3"u8 : "3.1.1 step 7, 4.2.3.2"u8;
                    case Step.InterruptLine: return "4.2.3.4"u8;
                    case Step.Kick: return packed ? "2.8.21, 4.2.3.3"u8 : "2.7.13, 4.2.3.3"u8;
                    case Step.Interrupt: return "4.2.3.4, 4.2.2"u8;
                }
            }
            else if (legacy)
            {
                switch (s)
                {
                    case Step.Probe: return "4.1.4.8"u8;
                    case Step.DeviceFeatures: return "3.1.1 step 4, 4.1.4.8"u8;
                    case Step.Queue: return "3.1.1 step 7, 4.1.5.1.3.1, 2.7.2"u8;
                }
            }
            if (s == Step.InterruptLine) return "4.1.5.3, 4.1.4.5"u8;
            if (s == Step.Interrupt && wired) return "4.1.5.3, 4.1.4.5"u8;
            switch (s)
            {
                case Step.PciEnable: return "4.1.5.1"u8;
                case Step.Probe: return "4.1.4"u8;
                case Step.Reset: return "3.1.1 step 1, 4.1.4.3.2"u8;
                case Step.Acknowledge: return "3.1.1 step 2"u8;
                case Step.Driver: return "3.1.1 step 3"u8;
                case Step.DeviceFeatures: return "3.1.1 step 4, 4.1.4.3"u8;
                case Step.DriverFeatures: return "3.1.1 step 4, 2.2"u8;
                case Step.FeaturesOk: return "3.1.1 step 5"u8;
                case Step.FeaturesOkCheck: return "3.1.1 step 6"u8;
                case Step.Queue: return "3.1.1 step 7, 4.1.5.1.3"u8;
                case Step.Interrupts: return "4.1.5.1.2, 4.1.4.3"u8;
                case Step.Polling: return "2.7.10"u8;
                case Step.QueuesEnabled: return "3.1.1 step 7, 4.1.4.3"u8;
                case Step.Fallback: return "4.1.5.1.2"u8;
                case Step.DriverOk: return "3.1.1 step 8"u8;
                case Step.RngReady: return "5.4"u8;
                case Step.Kick: return packed ? "2.8.21, 4.1.5.2"u8 : "2.7.13, 4.1.5.2"u8;
                case Step.Completion: return packed ? "2.8.22, 5.4.6"u8 : "2.7.14, 5.4.6"u8;
                case Step.Interrupt: return "4.1.5.4"u8;
                case Step.NeedsReset: return "2.1.2"u8;
                case Step.Stalled: return "2.4"u8;
                case Step.Failed: return "2.1"u8;
                default: return "2.4"u8;
            }
        }

        public static ReadOnlySpan<byte> Linux(Step s, VirtioTransportKind kind = VirtioTransportKind.PciModern, bool wired = false)
        {
            if (kind == VirtioTransportKind.MmioModern || kind == VirtioTransportKind.MmioLegacy)
            {
                switch (s)
                {
                    case Step.Probe: return "virtio_mmio_probe"u8;
                    case Step.Reset: return "virtio_reset_device -> vm_reset"u8;
                    case Step.DeviceFeatures: return "vm_get_features"u8;
                    case Step.DriverFeatures: return "vm_finalize_features"u8;
                    case Step.FeaturesOkCheck: return "virtio_features_ok -> vm_get_status"u8;
                    case Step.Queue: return "vm_setup_vq"u8;
                    case Step.InterruptLine: return "vm_find_vqs -> request_irq(vm_interrupt)"u8;
                    case Step.Polling: return "none: vm_find_vqs fails without an interrupt line"u8;
                    case Step.Fallback: return "vm_find_vqs"u8;
                    case Step.DriverOk: return "virtio_device_ready -> vm_set_status"u8;
                    case Step.Interrupt: return "vm_interrupt -> vring_interrupt"u8;
                }
            }
            else if (kind == VirtioTransportKind.PciLegacy)
            {
                switch (s)
                {
                    case Step.PciEnable: return "pci_enable_device, pci_set_master"u8;
                    case Step.Probe: return "vp_legacy_probe"u8;
                    case Step.DeviceFeatures: return "vp_get_features -> vp_legacy_get_features"u8;
                    case Step.DriverFeatures: return "vp_finalize_features -> vp_legacy_set_features"u8;
                    case Step.Queue: return "setup_vq (legacy), vp_legacy_set_queue_address, vp_legacy_queue_vector"u8;
                    case Step.Interrupts: return "vp_find_vqs_msix -> vp_request_msix_vectors, vp_legacy_config_vector"u8;
                    case Step.DriverOk: return "virtio_device_ready -> vp_set_status -> vp_legacy_set_status"u8;
                }
            }
            if (s == Step.InterruptLine) return "vp_find_vqs_intx -> request_irq(vp_interrupt)"u8;
            if (s == Step.Interrupt && wired) return "vp_interrupt -> vp_vring_interrupt"u8;
            switch (s)
            {
                case Step.PciEnable: return "pci_enable_device, pci_set_master"u8;
                case Step.Probe: return "vp_modern_probe"u8;
                case Step.Reset: return "virtio_reset_device -> vp_reset"u8;
                case Step.Acknowledge: return "register_virtio_device -> virtio_add_status"u8;
                case Step.Driver: return "virtio_dev_probe -> virtio_add_status"u8;
                case Step.DeviceFeatures: return "vp_get_features -> vp_modern_get_features"u8;
                case Step.DriverFeatures: return "vp_finalize_features -> vp_modern_set_features"u8;
                case Step.FeaturesOk: return "virtio_features_ok -> virtio_add_status"u8;
                case Step.FeaturesOkCheck: return "virtio_features_ok -> vp_get_status"u8;
                case Step.Queue: return "setup_vq, vp_active_vq, vp_modern_queue_vector, vp_modern_map_vq_notify"u8;
                case Step.Interrupts: return "vp_find_vqs_msix -> vp_request_msix_vectors, vp_modern_config_vector"u8;
                case Step.Polling: return "none: vp_find_vqs fails when INTx cannot be had"u8;
                case Step.QueuesEnabled: return "vp_modern_find_vqs -> vp_modern_set_queue_enable"u8;
                case Step.Fallback: return "vp_find_vqs"u8;
                case Step.DriverOk: return "virtio_device_ready -> vp_modern_set_status"u8;
                case Step.RngReady: return "virtrng_probe -> probe_common"u8;
                case Step.Kick: return "request_entropy -> virtqueue_add_inbuf, virtqueue_kick"u8;
                case Step.Completion: return "random_recv_done -> virtqueue_get_buf"u8;
                case Step.Interrupt: return "vp_vring_interrupt -> vring_interrupt"u8;
                case Step.NeedsReset: return "virtio_config_changed"u8;
                case Step.Stalled: return "none: virtio_read waits for ever"u8;
                case Step.Failed: return "virtio_add_status(FAILED)"u8;
                default: return "virtrng_remove -> remove_common"u8;
            }
        }
    }
}
