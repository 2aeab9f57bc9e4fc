using System;

namespace GuestOS.Drivers.Virtio
{
    // A device-type driver as the virtio bus sees it (Linux: struct virtio_driver with its
    // id_table and probe): which virtio device id it binds, whatever transport found the
    // device, and what to do with a device that matched. DriverStack keeps the table.
    public abstract class VirtioDriver
    {
        public abstract ReadOnlySpan<byte> Name { get; }   // "virtio_rng"
        public abstract int DeviceId { get; }              // virtio 1.2 §5: 4 = entropy

        // virtio_dev_probe with this driver: run the bring-up over vdev's transport.
        public abstract DriverError probe(VirtioDevice vdev);
    }
}
