using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // Feature bits (virtio 1.2 §2.2 and §6 "Reserved Feature Bits"). Bits 0..23 belong to the
    // device type, 24..40 to the transport and the ring. Masks, so sets combine with |.
    public static class VirtioFeatures
    {
        public const ulong VIRTIO_F_INDIRECT_DESC = 1UL << 28;      // §2.7.5.3 indirect descriptors
        public const ulong VIRTIO_F_EVENT_IDX = 1UL << 29;          // §2.7.7 / §2.7.10 used_event / avail_event
        public const ulong VIRTIO_F_VERSION_1 = 1UL << 32;          // a virtio 1.x device (not legacy)
        public const ulong VIRTIO_F_ACCESS_PLATFORM = 1UL << 33;    // DMA goes through the platform (IOMMU)
        public const ulong VIRTIO_F_RING_PACKED = 1UL << 34;        // §2.8 packed virtqueues
        public const ulong VIRTIO_F_IN_ORDER = 1UL << 35;
        public const ulong VIRTIO_F_ORDER_PLATFORM = 1UL << 36;
        public const ulong VIRTIO_F_SR_IOV = 1UL << 37;
        public const ulong VIRTIO_F_NOTIFICATION_DATA = 1UL << 38;
        public const ulong VIRTIO_F_NOTIF_CONFIG_DATA = 1UL << 39;
        public const ulong VIRTIO_F_RING_RESET = 1UL << 40;          // per-queue reset (§4.1.4.3 queue_reset)

        // What this transport and its rings require and can accept, whatever the device type
        // (Linux: vring_transport_features keeps the same set).
        //  - VERSION_1 is required: this is a modern-only driver (no legacy register layout).
        //  - RING_PACKED: PackedVirtqueue (§2.8) is used when the device offers it, else the
        //    split ring; VringCreate picks the layout from the negotiated set.
        //  - EVENT_IDX is implemented by both rings (split: used_event/avail_event, §2.7.10;
        //    packed: RING_EVENT_FLAGS_DESC with off_wrap, §2.8.10).
        //  - INDIRECT_DESC and RING_RESET only allow the driver to use those mechanisms; not
        //    using them is always fine (Linux's virtio-rng negotiates both and uses neither).
        //  - ACCESS_PLATFORM: our DMA addresses are physical addresses, which is what a device
        //    behind a platform without IOMMU expects.
        // Not accepted: IN_ORDER (the device could then return one used descriptor for a batch
        // of buffers, which neither ring handles), NOTIFICATION_DATA (changes the notify format).
        public const ulong TransportRequired = VIRTIO_F_VERSION_1;
        public const ulong TransportOptional = VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_ACCESS_PLATFORM
                                             | VIRTIO_F_RING_PACKED | VIRTIO_F_RING_RESET;

        public static bool Has(ulong features, ulong bit) { return (features & bit) != 0; }

        public static ReadOnlySpan<byte> Name(int bit)
        {
            switch (bit)
            {
                case 24: return "NOTIFY_ON_EMPTY"u8;        // legacy (§6.3)
                case 27: return "ANY_LAYOUT"u8;             // legacy (§6.3)
                case 28: return "INDIRECT_DESC"u8;
                case 29: return "EVENT_IDX"u8;
                case 32: return "VERSION_1"u8;
                case 33: return "ACCESS_PLATFORM"u8;
                case 34: return "RING_PACKED"u8;
                case 35: return "IN_ORDER"u8;
                case 36: return "ORDER_PLATFORM"u8;
                case 37: return "SR_IOV"u8;
                case 38: return "NOTIFICATION_DATA"u8;
                case 39: return "NOTIF_CONFIG_DATA"u8;
                case 40: return "RING_RESET"u8;
            }
            return default;
        }

        // "VERSION_1 EVENT_IDX bit3" for narration.
        public static void Print(ulong features)
        {
            if (features == 0) { Log.Write("none"u8); return; }
            bool first = true;
            for (int bit = 0; bit < 64; bit++)
            {
                if ((features & (1UL << bit)) == 0) continue;
                if (!first) Log.Write(' ');
                first = false;
                ReadOnlySpan<byte> n = Name(bit);
                if (!n.IsEmpty) Log.Write(n);
                else { Log.Write("bit"u8); Log.Dec((ulong)bit); }
            }
        }
    }
}
