using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // vp_notify (virtio 1.2 §4.1.5.2): "the driver sends an available buffer notification to
    // the device by writing the 16-bit virtqueue index of this virtqueue to the Queue Notify
    // address". One iowrite16.
    public sealed class VirtioPciNotifier : VirtqueueNotifier
    {
        public ulong Addr;   // from vp_modern_map_vq_notify, or the legacy header's queue_notify
        public bool Port;    // legacy on x86: an I/O port, written with outw

        public override bool Notify(ushort queueIndex)
        {
            if (Addr == 0) return false;
            if (Port) Io.outw((ushort)Addr, queueIndex);
            else Io.iowrite16(Addr, queueIndex);
            return true;
        }
    }
}
