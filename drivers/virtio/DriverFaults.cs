using System;

namespace GuestOS.Drivers.Virtio
{
    // Rules broken on purpose, so that learners and tests can watch what the device (QEMU, or
    // our vhost-user backend) does about it, and what `make check-guest` says. Off unless the
    // kernel command line asks for one (fault=NAME, kernel/Workload.cs); each fires once, so a
    // driver that recovers by resetting the device initialises it properly the second time.
    public static class DriverFaults
    {
        // fault=avail-head: the AvailHeadAt-th buffer made available in a split ring names
        // descriptor `num`, which does not exist (spec 2.7.13.2 requires a head of a chain the
        // driver built). QEMU's virtqueue_pop calls virtio_error ("Guest says index N is
        // available"): it sets DEVICE_NEEDS_RESET and raises the configuration interrupt
        // (2.1.2), and the driver resets and re-initialises the device.
        public static ulong AvailHeadAt;
        private static ulong _availAdds;

        // The head to publish in the available ring for `head` (split ring, `num` entries).
        internal static ushort AvailHead(ushort head, uint num)
        {
            if (AvailHeadAt == 0 || ++_availAdds != AvailHeadAt) return head;
            return (ushort)num;
        }

        // The other faults, one rule of virtio 1.2 each (the rule id `make check-guest` reports).
        public const uint None = 0;
        public const uint NotifyBeforeDriverOk = 1;       // 3.1.1 no-notify-before-driver-ok: kick every queue just before DRIVER_OK
        public const uint QueueSizeOdd = 2;               // 4.1.4.3.2 queue-size-power-of-2: write queue_size num-1 (the ring stays num)
        public const uint FeatureAfterFeaturesOk = 3;     // 3.1.1 no-feature-write-after-features-ok: write the features again after the read-back
        public const uint SkipFeaturesOkReadBack = 4;     // 3.1.1 features-ok-read-back: trust FEATURES_OK without reading status
        public const uint DriverOkBeforeQueueEnable = 5;  // 3.1.1 queues-before-driver-ok: DRIVER_OK, then queue_enable
        public const uint QueueEnableZero = 6;            // 4.1.4.3.2 queue-enable-not-zero: write 0 to queue_enable before 1
        public const uint ResetNoWait = 7;                // 4.1.4.3.2 reset-read-back: write ACKNOWLEDGE right after the reset
        public const uint VectorNoReadBack = 8;           // 4.1.5.1.2 msix-vector-read-back: trust queue_msix_vector without reading it
        public const uint FeatureNotOffered = 9;          // 2.2.1 only-offered-features: also accept bit 0, which virtio-rng never offers
        public const uint DeviceReadableBuffer = 10;      // 5.4.6.1 entropy-device-writable: the first buffer posted is device-readable
        public const uint QueueSizeAboveMax = 11;         // 4.1.4.3, 4.2.2.2 queue-size-not-above-max: write twice the device's maximum (the ring stays num)
        public const uint RingMisaligned = 12;            // 2.7 ring-alignment: give the descriptor table's address 8 bytes on
        public const uint SkipAcknowledge = 13;           // 3.1.1 status-sequence: add DRIVER without ACKNOWLEDGE
        public const uint FeaturesBeforeRead = 14;        // 3.1.1 features-before-features-ok: write driver_feature (0: nothing accepted) before reading device_feature
        public const uint NoVersion1 = 15;                // 6.1 accept-version-1: accept what is wanted except VIRTIO_F_VERSION_1
        public const uint Last = NoVersion1;

        // The name `fault=NAME` gives each on the kernel command line.
        public static ReadOnlySpan<byte> Name(uint fault) => fault switch
        {
            NotifyBeforeDriverOk => "notify-before-driver-ok"u8,
            QueueSizeOdd => "queue-size-odd"u8,
            FeatureAfterFeaturesOk => "feature-after-features-ok"u8,
            SkipFeaturesOkReadBack => "skip-features-ok-read-back"u8,
            DriverOkBeforeQueueEnable => "driver-ok-before-queue-enable"u8,
            QueueEnableZero => "queue-enable-zero"u8,
            ResetNoWait => "reset-no-wait"u8,
            VectorNoReadBack => "vector-no-read-back"u8,
            FeatureNotOffered => "feature-not-offered"u8,
            DeviceReadableBuffer => "device-readable-buffer"u8,
            QueueSizeAboveMax => "queue-size-above-max"u8,
            RingMisaligned => "ring-misaligned"u8,
            SkipAcknowledge => "skip-acknowledge"u8,
            FeaturesBeforeRead => "features-before-read"u8,
            NoVersion1 => "no-version-1"u8,
            _ => default,
        };

        public static uint Active;

        // True once, when `fault` is the one the command line asked for.
        public static bool Fire(uint fault)
        {
            if (Active == None || Active != fault) return false;
            Active = None;
            return true;
        }

        // FeatureNotOffered, NoVersion1: the features to write.
        public static ulong Accept(ulong features) =>
            Fire(FeatureNotOffered) ? features | 1
            : Fire(NoVersion1) ? features & ~VirtioFeatures.VIRTIO_F_VERSION_1
            : features;

        // QueueSizeOdd, QueueSizeAboveMax: the queue size to write for a ring of `num` on a queue
        // whose maximum read `max` (twice it is still a power of 2; wraps to 0 at 32768).
        public static ushort QueueSize(ushort num, uint max) =>
            Fire(QueueSizeOdd) ? (ushort)(num - 1) : Fire(QueueSizeAboveMax) ? (ushort)(2 * max) : num;

        // RingMisaligned: the descriptor table's address to write.
        public static ulong DescAddress(ulong desc) => Fire(RingMisaligned) ? desc + 8 : desc;
    }
}
