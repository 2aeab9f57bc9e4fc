using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // Linux's vring_create_virtqueue: the one place that picks the ring layout from the
    // negotiated features, so the transport (virtio_find_vq) never names a layout.
    public static class VringCreate
    {
        // align: where the split ring's used ring starts (SplitVirtqueue.UsedOffset).
        public static Virtqueue vring_create_virtqueue(ushort index, uint num, ulong align, ulong features,
                                                       VirtqueueNotifier notifier, out DriverError err)
        {
            bool eventIdx = VirtioFeatures.Has(features, VirtioFeatures.VIRTIO_F_EVENT_IDX);
            if (VirtioFeatures.Has(features, VirtioFeatures.VIRTIO_F_RING_PACKED))
                return PackedVirtqueue.vring_create_virtqueue(index, num, eventIdx, notifier, out err);
            return SplitVirtqueue.vring_create_virtqueue(index, num, eventIdx, notifier, out err, align);
        }

        // vring_alloc_queue_split/_packed: the ring's DMA memory for up to `num` entries, halving
        // num while memory is short (a smaller queue still works). Null if not even one fits.
        internal static DmaBuffer vring_alloc_queue(ref uint num, bool packed, ulong align = SplitVirtqueue.VRING_ALIGN)
        {
            while (true)
            {
                DmaBuffer ring = Dma.AllocCoherent(packed ? PackedVirtqueue.vring_size_packed(num) : SplitVirtqueue.vring_size(num, align));
                if (!ring.IsNull || num == 1) return ring;
                num /= 2;
            }
        }

        // Which queue sizes a device may offer for the negotiated layout: the split ring's
        // indices are masked with num - 1, so a power of 2 up to 32768 (§2.7); the packed ring
        // takes any size from 1 to 32768 (§2.8: "does not have to be a power of 2").
        public static bool vring_size_valid(uint num, ulong features)
        {
            if (VirtioFeatures.Has(features, VirtioFeatures.VIRTIO_F_RING_PACKED))
                return num != 0 && num <= PackedVirtqueue.VIRTQUEUE_MAX_SIZE;
            return SplitVirtqueue.IsPowerOf2(num) && num <= SplitVirtqueue.VIRTQUEUE_MAX_SIZE;
        }

        // The rule above in words, for the error message.
        public static ReadOnlySpan<byte> vring_size_rule(ulong features)
        {
            if (VirtioFeatures.Has(features, VirtioFeatures.VIRTIO_F_RING_PACKED))
                return "packed ring size is not 1..32768"u8;
            return "split ring size is not a power of 2 up to 32768"u8;
        }
    }
}
