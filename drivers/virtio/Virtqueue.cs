using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // What a device driver sees of a virtqueue, whatever its layout (Linux: struct virtqueue
    // and the virtqueue_* API in include/linux/virtio.h). SplitVirtqueue (§2.7) and
    // PackedVirtqueue (§2.8) implement it; VringCreate picks one from the negotiated features.
    //
    // A buffer is identified by a token the driver chooses (Linux passes a void* "data");
    // virtqueue_get_buf hands it back with the number of bytes the device wrote.
    public abstract unsafe class Virtqueue
    {
        public ushort Index;            // queue number on the device
        public uint Num;                // queue size (entries)
        public uint NumFree;            // free descriptors
        public bool Broken;             // a device error was detected: the queue is unusable
        public DriverError BrokenReason;

        // The three areas the transport tells the device about (§2.6: Descriptor Area, Driver
        // Area, Device Area; virtio-pci queue_desc, queue_driver, queue_device). Split ring:
        // descriptor table, available ring, used ring. Packed ring: descriptor ring, driver
        // and device event suppression structures.
        public abstract ulong DescAreaPhys { get; }
        public abstract ulong DriverAreaPhys { get; }
        public abstract ulong DeviceAreaPhys { get; }

        // vring_need_event (virtio 1.2 §2.7.10, include/uapi/linux/virtio_ring.h): with
        // EVENT_IDX, the other side asked to be notified once its event index is passed.
        // We moved our index from `old` to `new_idx`; notify iff event_idx is one of the
        // entries we just published, i.e. event_idx in [old, new_idx) counted modulo 2^16:
        //     (u16)(new_idx - event_idx - 1) < (u16)(new_idx - old)
        // Wrap example: old=65534, new=2, event=65534 -> 3 < 4: notify. The packed ring uses
        // it too, once its wrap counters are mapped onto one index line (vring_packed_need_event).
        public static bool vring_need_event(ushort event_idx, ushort new_idx, ushort old)
        {
            return (ushort)(new_idx - event_idx - 1) < (ushort)(new_idx - old);
        }

        // Expose a chain of buffers: outNum device-readable ones, then inNum device-writable
        // ones (§2.7.4: readable before writable). addr/len point to outNum + inNum entries.
        public abstract DriverError virtqueue_add(ulong* addr, uint* len, uint outNum, uint inNum, ulong token);

        // One device-writable buffer (Linux: virtqueue_add_inbuf with one sg entry).
        public DriverError virtqueue_add_inbuf(ulong addr, uint len, ulong token)
        {
            return virtqueue_add(&addr, &len, 0, 1, token);
        }

        // One device-readable buffer (Linux: virtqueue_add_outbuf).
        public DriverError virtqueue_add_outbuf(ulong addr, uint len, ulong token)
        {
            return virtqueue_add(&addr, &len, 1, 0, token);
        }

        // Publish what was added and decide whether the device must be notified.
        public abstract bool virtqueue_kick_prepare();

        // Send the available-buffer notification (transport specific).
        public abstract bool virtqueue_notify();

        // virtqueue_kick = kick_prepare + notify when needed. False if the queue is broken.
        public bool virtqueue_kick()
        {
            if (virtqueue_kick_prepare()) return virtqueue_notify();
            return !Broken;
        }

        // Take one used buffer. True with its token and written length; false when there is
        // none (error == Ok) or when the device misbehaved (error says how; queue now broken).
        public abstract bool virtqueue_get_buf(out ulong token, out uint len, out DriverError error);

        // Used-buffer notification (interrupt) control for an interrupt-driven driver.
        public abstract void virtqueue_disable_cb();
        public abstract uint virtqueue_enable_cb_prepare();
        public abstract bool virtqueue_poll(uint lastUsedIdx);
        public bool virtqueue_enable_cb() { return !virtqueue_poll(virtqueue_enable_cb_prepare()); }

        // Anything in the used ring we have not taken yet?
        public abstract bool virtqueue_more_used();

        // Free the ring memory. Only after the device was reset (it no longer touches it).
        public abstract void vring_del_virtqueue();

        // BAD_RING: the device broke the ring's rules. Report once, and refuse all further work
        // on this queue. layout: "" or " (packed)", for the message.
        protected DriverError bad_ring(DriverError why, ulong value, ReadOnlySpan<byte> layout)
        {
            Broken = true;
            BrokenReason = why;
            Narration.Printk.Line("virtqueue %u%s: device error: %s (%u, queue size %u); queue marked broken [BAD_RING]"u8,
                                  Index, layout, DriverErrors.Name(why), value, Num);
            return why;
        }
    }

    // How a queue tells its device that there is work (Linux: the vq->notify callback,
    // vp_notify for virtio-pci). A class, because the kernel corelib has no delegates.
    public abstract class VirtqueueNotifier
    {
        public abstract bool Notify(ushort queueIndex);
    }
}
