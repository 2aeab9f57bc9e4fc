using System;

namespace GuestOS.Drivers
{
    // Every failure the driver stack can report. Errors are values (the kernel has no
    // exceptions): functions return one of these, or a negative count -(long)error.
    // The numbers are stable so the kernel may turn them into distinct exit statuses.
    public enum DriverError
    {
        Ok = 0,

        // --- DriverStack ------------------------------------------------------------------
        NoPciDevices = 1,           // config space answered nothing at all
        NoVirtioDevice = 2,         // no virtio-rng function (1af4:1005 / 1af4:1044) on any bus

        // --- PCI ------------------------------------------------------------------------
        EcamMapFailed = 10,         // ioremap of the ECAM window returned 0
        BarNotAssigned = 11,        // a BAR the driver needs has no address (and none could be given)
        BarNotMemory = 12,          // a virtio structure sits in an I/O BAR (not supported yet)
        IoremapFailed = 13,         // ioremap of a BAR region returned 0

        // --- virtio-pci modern transport (vp_modern_probe, virtio 1.2 §4.1.4) --------------
        NotVirtioModern = 20,       // no usable COMMON capability: "leaving for legacy driver"
        MissingIsrCap = 21,
        MissingNotifyCap = 22,
        CapLengthTooShort = 23,     // structure shorter than the spec's minimum
        CapOutsideBar = 24,         // offset + length beyond the end of the BAR
        CapMisaligned = 25,         // offset not aligned as the structure requires
        NotifyOffsetOutOfRange = 26,// queue_notify_off * multiplier + 2 > notify length
        LegacyNoIoBar = 27,         // legacy virtio-pci: BAR 0 is not an assigned I/O BAR

        // --- virtio-mmio transport (virtio_mmio_probe, virtio 1.2 §4.2.2) -------------------
        MmioBadMagic = 28,          // MagicValue is not "virt"
        MmioBadVersion = 29,        // Version is neither 1 (legacy) nor 2

        // --- device bring-up (virtio 1.2 §3.1.1) -----------------------------------------
        ResetTimeout = 30,          // device_status never read back 0 after reset
        MissingRequiredFeatures = 31,// device lacks a feature the driver cannot work without
        FeaturesRefused = 32,       // FEATURES_OK did not stick (device said no)
        DeviceNeedsReset = 33,      // device set DEVICE_NEEDS_RESET
        QueueNotAvailable = 34,     // queue index >= num_queues, or queue_size reads 0
        QueueAlreadyEnabled = 35,
        QueueSizeInvalid = 36,      // not a power of 2, or above 32768 (§2.7)
        OutOfDmaMemory = 37,
        NoVector = 38,              // the device read back VIRTIO_MSI_NO_VECTOR for a vector we gave it
        QueueAddressInvalid = 39,   // legacy: the ring is not expressible as a 32-bit page number

        // --- split virtqueue (virtio 1.2 §2.7) ------------------------------------------
        QueueFull = 40,             // no free descriptor
        QueueBroken = 41,           // an earlier device error broke the queue
        UsedIdOutOfRange = 42,      // used element id >= queue size
        UsedIdNotOutstanding = 43,  // used element id is not a buffer we made available
        UsedLenTooLarge = 44,       // device claims to have written more than the buffer holds
        UsedIdxInvalid = 45,        // used->idx ran more than queue-size entries ahead

        // --- entropy device (virtio 1.2 §5.4) -------------------------------------------
        ZeroLengthFill = 50,        // device completed a request with 0 bytes (§5.4.6.1: MUST be >= 1)
        Timeout = 51,               // no completion within the wait limit
        DeviceRemoved = 52,
    }

    public static class DriverErrors
    {
        // A fixed name per error for console messages (no ToString in the kernel).
        public static ReadOnlySpan<byte> Name(DriverError e)
        {
            switch (e)
            {
                case DriverError.Ok: return "ok"u8;
                case DriverError.NoPciDevices: return "no PCI devices"u8;
                case DriverError.NoVirtioDevice: return "no virtio-rng device"u8;
                case DriverError.EcamMapFailed: return "cannot map ECAM"u8;
                case DriverError.BarNotAssigned: return "BAR not assigned"u8;
                case DriverError.BarNotMemory: return "virtio structure in an I/O BAR"u8;
                case DriverError.IoremapFailed: return "ioremap failed"u8;
                case DriverError.NotVirtioModern: return "no virtio COMMON capability (legacy-only device)"u8;
                case DriverError.MissingIsrCap: return "no virtio ISR capability"u8;
                case DriverError.MissingNotifyCap: return "no virtio NOTIFY capability"u8;
                case DriverError.CapLengthTooShort: return "virtio capability too short"u8;
                case DriverError.CapOutsideBar: return "virtio capability outside its BAR"u8;
                case DriverError.CapMisaligned: return "virtio capability misaligned"u8;
                case DriverError.NotifyOffsetOutOfRange: return "queue notify offset out of range"u8;
                case DriverError.LegacyNoIoBar: return "legacy virtio-pci device without an I/O BAR 0"u8;
                case DriverError.MmioBadMagic: return "virtio-mmio: wrong magic value"u8;
                case DriverError.MmioBadVersion: return "virtio-mmio: unsupported version"u8;
                case DriverError.ResetTimeout: return "device reset did not complete"u8;
                case DriverError.MissingRequiredFeatures: return "device lacks required features"u8;
                case DriverError.FeaturesRefused: return "device refused FEATURES_OK"u8;
                case DriverError.DeviceNeedsReset: return "device needs reset"u8;
                case DriverError.QueueNotAvailable: return "virtqueue not available"u8;
                case DriverError.QueueAlreadyEnabled: return "virtqueue already enabled"u8;
                case DriverError.QueueSizeInvalid: return "virtqueue size invalid"u8;
                case DriverError.OutOfDmaMemory: return "out of DMA memory"u8;
                case DriverError.NoVector: return "device refused an MSI-X vector (NO_VECTOR)"u8;
                case DriverError.QueueAddressInvalid: return "ring address not expressible as a 32-bit page number"u8;
                case DriverError.QueueFull: return "virtqueue full"u8;
                case DriverError.QueueBroken: return "virtqueue broken"u8;
                case DriverError.UsedIdOutOfRange: return "used id out of range"u8;
                case DriverError.UsedIdNotOutstanding: return "used id not outstanding"u8;
                case DriverError.UsedLenTooLarge: return "used len larger than buffer"u8;
                case DriverError.UsedIdxInvalid: return "used idx jumped too far"u8;
                case DriverError.ZeroLengthFill: return "device returned 0 bytes"u8;
                case DriverError.Timeout: return "timeout"u8;
                case DriverError.DeviceRemoved: return "device removed"u8;
            }
            return "unknown error"u8;
        }
    }
}
