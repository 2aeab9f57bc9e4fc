using System;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // A boot-time listing in the spirit of `lspci -v`:
    //   pci: 00:01.0 [00ff] unclassified device 1af4:1044 rev 01, subsystem 1af4:1100: virtio rng (modern)
    //   pci:         BAR1 mem32 0x10001000 size 0x1000
    //   pci:         cap 0x84 vendor: virtio NOTIFY BAR4+0x3000 len 0x1000 notify_off_multiplier 4
    public static class Lspci
    {
        public static void Print(PciDevice[] devices)
        {
            for (int i = 0; i < devices.Length; i++) PrintDevice(devices[i]);
        }

        public static void PrintDevice(PciDevice d)
        {
            Log.Write("pci: "u8);
            d.WriteBdf();
            Log.Write(" ["u8);
            PciDevice.WriteHex4(d.ClassCode >> 8);
            Log.Write("] "u8);
            Log.Write(ClassName(d.ClassCode >> 8));
            Log.Write(' ');
            PciDevice.WriteHex4(d.VendorId);
            Log.Write(':');
            PciDevice.WriteHex4(d.DeviceId);
            Log.Write(" rev "u8);
            PciDevice.WriteHex2(d.Revision);
            if (d.HeaderType == PciRegs.PCI_HEADER_TYPE_NORMAL)
            {
                Log.Write(", subsystem "u8);
                PciDevice.WriteHex4(d.SubsystemVendorId);
                Log.Write(':');
                PciDevice.WriteHex4(d.SubsystemId);
            }
            if (d.MultiFunction) Log.Write(", multi-function"u8);
            int virtioId = VirtioIds.FromPci(d);
            if (virtioId >= 0)
            {
                Log.Write(": virtio "u8);
                Log.Write(VirtioIds.Name(virtioId));
                Log.Write(VirtioIds.IsTransitional(d) ? " (transitional)"u8 : " (modern)"u8);
            }
            Log.Line();

            if (d.IsBridge)
            {
                Log.Write("pci:         bus: primary "u8);
                PciDevice.WriteHex2(d.Bus);
                Log.Write(", secondary "u8);
                PciDevice.WriteHex2(d.SecondaryBus);
                Log.Write(", subordinate "u8);
                PciDevice.WriteHex2(d.SubordinateBus);
                Log.Line();
            }

            d.SizeBars();   // lspci shows every function's, as Linux's scan has sized them all
            for (int i = 0; i < d.Bars.Length; i++)
            {
                PciBar b = d.Bars[i];
                if (b == null || !b.IsImplemented) continue;
                Log.Write("pci:         "u8);
                b.Print();
                Log.Line();
            }

            for (int i = 0; i < d.CapCount; i++)
            {
                uint pos = d.CapOffsets[i];
                byte id = d.CapIds[i];
                Log.Write("pci:         cap "u8);
                Log.Hex(pos, 2);
                Log.Write(' ');
                if (id == PciCapabilities.PCI_CAP_ID_MSIX)
                {
                    MsixCapability m = MsixCapability.Read(d);
                    if (m != null) m.Print();
                }
                else
                {
                    Log.Write(PciCapabilities.Name(id));
                    if (id == PciCapabilities.PCI_CAP_ID_VNDR && virtioId >= 0) PrintVirtioCap(d, pos);
                }
                Log.Line();
            }
            if (d.CapListLoops)
            {
                Log.Write("pci:         (capability list loops: cut)"u8);
                Log.Line();
            }
        }

        // A virtio vendor capability (virtio 1.2 §4.1.4): type, BAR, offset, length.
        private static void PrintVirtioCap(PciDevice d, uint pos)
        {
            byte type = d.Read8(pos + VirtioPciRegs.VIRTIO_PCI_CAP_CFG_TYPE);
            Log.Write(": virtio "u8);
            Log.Write(VirtioPciRegs.CfgTypeName(type));
            if (type == VirtioPciRegs.VIRTIO_PCI_CAP_PCI_CFG) return;
            Log.Write(" BAR"u8);
            Log.Dec(d.Read8(pos + VirtioPciRegs.VIRTIO_PCI_CAP_BAR));
            Log.Write('+');
            Log.Hex(d.Read32(pos + VirtioPciRegs.VIRTIO_PCI_CAP_OFFSET));
            Log.Write(" len "u8);
            Log.Hex(d.Read32(pos + VirtioPciRegs.VIRTIO_PCI_CAP_LENGTH));
            if (type == VirtioPciRegs.VIRTIO_PCI_CAP_NOTIFY_CFG && d.Read8(pos + VirtioPciRegs.VIRTIO_PCI_CAP_LEN) >= VirtioPciRegs.VIRTIO_PCI_NOTIFY_CAP_SIZE)
            {
                Log.Write(" notify_off_multiplier "u8);
                Log.Dec(d.Read32(pos + VirtioPciRegs.VIRTIO_PCI_NOTIFY_CAP_MULT));
            }
        }

        // Class and subclass (PCI Code and ID Assignment spec), the common ones.
        public static ReadOnlySpan<byte> ClassName(uint classSub)
        {
            switch (classSub)
            {
                case 0x0000: return "non-VGA device"u8;
                case 0x0100: return "SCSI controller"u8;
                case 0x0101: return "IDE controller"u8;
                case 0x0106: return "SATA controller"u8;
                case 0x0108: return "NVMe controller"u8;
                case 0x0200: return "Ethernet controller"u8;
                case 0x0300: return "VGA controller"u8;
                case 0x0380: return "display controller"u8;
                case 0x0403: return "audio device"u8;
                case 0x0600: return "host bridge"u8;
                case 0x0601: return "ISA bridge"u8;
                case 0x0604: return "PCI bridge"u8;
                case 0x0680: return "bridge"u8;
                case 0x0700: return "serial controller"u8;
                case 0x0780: return "communication controller"u8;
                case 0x0c03: return "USB controller"u8;
                case 0x0c05: return "SMBus"u8;
                case 0x00ff: return "unclassified device"u8;
            }
            if ((classSub >> 8) == 0xFF) return "unassigned class"u8;
            return "device"u8;
        }
    }
}
