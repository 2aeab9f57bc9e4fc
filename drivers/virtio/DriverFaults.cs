namespace GuestOS.Drivers.Virtio
{
    // Rules broken on purpose, so that learners and tests can watch what the device (QEMU, or
    // our vhost-user backend) does about it. Off unless the kernel command line asks for one
    // (fault=NAME); each fires once.
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
    }
}
