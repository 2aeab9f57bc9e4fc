namespace GuestOS.Drivers.Virtio
{
    // Linux's vring_create_virtqueue: the one place that picks the ring layout from the
    // negotiated features, so the transport (virtio_find_vq) never names a layout.
    public static class VringCreate
    {
        public static Virtqueue vring_create_virtqueue(ushort index, uint num, ulong features,
                                                       VirtqueueNotifier notifier, out DriverError err)
        {
            bool eventIdx = VirtioFeatures.Has(features, VirtioFeatures.VIRTIO_F_EVENT_IDX);
            return SplitVirtqueue.vring_create_virtqueue(index, num, eventIdx, notifier, out err);
        }
    }
}
