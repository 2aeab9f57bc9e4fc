using System;
using GuestOS.Drivers.Pci;

namespace GuestOS.Drivers.Virtio
{
    // How a virtio device shows up on PCI (virtio 1.2 §4.1.2): vendor 0x1af4 and
    //   device 0x1040 + virtio id  for modern-only devices (virtio-rng: 0x1044), or
    //   device 0x1000..0x103f      for transitional devices, whose virtio id is then the PCI
    //                              subsystem id (virtio-rng-pci: 0x1005, subsystem 4).
    // Linux: vp_modern_probe takes 0x1000..0x107f the same way.
    public static class VirtioIds
    {
        public const ushort VIRTIO_PCI_VENDOR = 0x1AF4;
        public const ushort VIRTIO_ID_NET = 1;
        public const ushort VIRTIO_ID_BLOCK = 2;
        public const ushort VIRTIO_ID_CONSOLE = 3;
        public const ushort VIRTIO_ID_RNG = 4;

        // The virtio device id of d, or -1 if d is not a virtio device.
        public static int FromPci(PciDevice d)
        {
            if (d.VendorId != VIRTIO_PCI_VENDOR) return -1;
            if (d.DeviceId < 0x1000 || d.DeviceId > 0x107F) return -1;
            if (d.DeviceId < 0x1040) return d.SubsystemId;
            return d.DeviceId - 0x1040;
        }

        public static bool IsTransitional(PciDevice d) { return d.DeviceId < 0x1040; }

        public static ReadOnlySpan<byte> Name(int id)
        {
            switch (id)
            {
                case 1: return "net"u8;
                case 2: return "block"u8;
                case 3: return "console"u8;
                case 4: return "rng"u8;
                case 5: return "balloon"u8;
                case 8: return "scsi"u8;
                case 9: return "9p"u8;
                case 16: return "gpu"u8;
                case 18: return "input"u8;
                case 19: return "vsock"u8;
                case 26: return "fs"u8;
            }
            return "device"u8;
        }
    }
}
