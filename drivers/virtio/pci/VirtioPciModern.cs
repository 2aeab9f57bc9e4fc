using System;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;
using GuestOS.Drivers.Narration;

namespace GuestOS.Drivers.Virtio
{
    // The modern virtio-pci register library, mirroring Linux's
    // drivers/virtio/virtio_pci_modern_dev.c (vp_modern_*): find the virtio structures through
    // the vendor capabilities, map them, and access each register with exactly the width the
    // spec gives it (virtio 1.2 §4.1.3.1: "The driver MUST access each field using the
    // 'natural' access method"). Knows nothing of rings or device types.
    public sealed class VirtioPciModern
    {
        public PciDevice Pci;
        public int VirtioId;            // virtio device id (4 = entropy)

        // Mapped addresses of the structures (0 = absent).
        public ulong Common;            // struct virtio_pci_common_cfg
        public ulong Isr;               // u8 ISR status: mapped because §4.1.4 requires it; with MSI-X the driver never reads it
        public ulong Device;            // device-specific configuration (optional)
        public ulong DeviceLen;
        public ulong NotifyBase;        // start of the notification structure
        public ulong NotifyLen;
        public uint NotifyOffMultiplier;// may be 0: all queues then share one notify address

        // Configuration-space offsets of the capabilities used (for the narration and tests).
        public uint CommonCap, IsrCap, NotifyCap, DeviceCap;

        public const ulong PAGE_SIZE = 4096;

        // vp_modern_probe (virtio 1.2 §4.1.4): locate COMMON, ISR, NOTIFY (all required) and
        // DEVICE (optional), validate each one and map it. The caller has enabled memory
        // decoding (pci_enable_device).
        public static DriverError vp_modern_probe(PciDevice pdev, out VirtioPciModern mdev)
        {
            mdev = null;
            VirtioPciModern m = new VirtioPciModern();
            m.Pci = pdev;
            m.VirtioId = VirtioIds.FromPci(pdev);
            if (m.VirtioId < 0) return DriverError.NotVirtioModern;

            // Without a common configuration the device is legacy-only: not ours.
            m.CommonCap = m.virtio_pci_find_capability(VirtioPciRegs.VIRTIO_PCI_CAP_COMMON_CFG);
            if (m.CommonCap == 0)
            {
                m.probe_error("no usable COMMON capability: leaving for legacy driver"u8);
                return DriverError.NotVirtioModern;
            }
            // "If common is there, these should be too..."
            m.IsrCap = m.virtio_pci_find_capability(VirtioPciRegs.VIRTIO_PCI_CAP_ISR_CFG);
            m.NotifyCap = m.virtio_pci_find_capability(VirtioPciRegs.VIRTIO_PCI_CAP_NOTIFY_CFG);
            if (m.IsrCap == 0) { m.probe_error("missing ISR capability"u8); return DriverError.MissingIsrCap; }
            if (m.NotifyCap == 0) { m.probe_error("missing NOTIFY capability"u8); return DriverError.MissingNotifyCap; }
            // Only mandatory for devices that have device-specific configuration.
            m.DeviceCap = m.virtio_pci_find_capability(VirtioPciRegs.VIRTIO_PCI_CAP_DEVICE_CFG);

            ulong len;
            DriverError err = m.vp_modern_map_capability(m.CommonCap, VirtioPciRegs.VIRTIO_PCI_COMMON_CFG_SIZE, 4, 0,
                                                         VirtioPciRegs.VIRTIO_PCI_COMMON_CFG_SIZE, out m.Common, out len);
            if (err != DriverError.Ok) return err;
            err = m.vp_modern_map_capability(m.IsrCap, 1, 1, 0, 1, out m.Isr, out len);
            if (err != DriverError.Ok) return err;

            // notify_off_multiplier sits right after the generic capability (§4.1.4.4). 0 is
            // legal: every queue then uses the same notification address.
            m.NotifyOffMultiplier = pdev.Read32(m.NotifyCap + VirtioPciRegs.VIRTIO_PCI_NOTIFY_CAP_MULT);
            uint notifyLength = pdev.Read32(m.NotifyCap + VirtioPciRegs.VIRTIO_PCI_CAP_LENGTH);
            err = m.vp_modern_map_capability(m.NotifyCap, 2, 2, 0, notifyLength, out m.NotifyBase, out m.NotifyLen);
            if (err != DriverError.Ok) return err;

            if (m.DeviceCap != 0)
            {
                err = m.vp_modern_map_capability(m.DeviceCap, 0, 4, 0, PAGE_SIZE, out m.Device, out m.DeviceLen);
                if (err != DriverError.Ok) return err;
            }

            // Name the structures' registers in the narration ("common+0x14 device_status").
            IoRegions.Add(m.Common, VirtioPciRegs.VIRTIO_PCI_COMMON_CFG_SIZE, IoRegionKind.VirtioCommon);
            IoRegions.Add(m.Isr, 1, IoRegionKind.VirtioIsr);
            IoRegions.Add(m.NotifyBase, m.NotifyLen, IoRegionKind.VirtioNotify);
            if (m.DeviceCap != 0) IoRegions.Add(m.Device, m.DeviceLen, IoRegionKind.VirtioDevice);
            mdev = m;
            return DriverError.Ok;
        }

        // virtio_pci_find_capability: the first vendor capability of this cfg_type that is
        // well formed wins (§4.1.4: "the driver SHOULD use the first instance it can support").
        // Ignored, like Linux does: a BAR value above 5 (reserved) and a BAR the function does
        // not implement. Also ignored here: a cap_len too short to hold the structure.
        // Returns the capability's offset in configuration space, or 0.
        public uint virtio_pci_find_capability(byte cfgType)
        {
            uint minCapLen = cfgType == VirtioPciRegs.VIRTIO_PCI_CAP_NOTIFY_CFG ? VirtioPciRegs.VIRTIO_PCI_NOTIFY_CAP_SIZE : VirtioPciRegs.VIRTIO_PCI_CAP_SIZE;
            for (uint pos = PciCapabilities.Find(Pci, PciCapabilities.PCI_CAP_ID_VNDR); pos != 0;
                 pos = PciCapabilities.FindNext(Pci, pos, PciCapabilities.PCI_CAP_ID_VNDR))
            {
                byte type = Pci.Read8(pos + VirtioPciRegs.VIRTIO_PCI_CAP_CFG_TYPE);
                if (type != cfgType) continue;
                byte capLen = Pci.Read8(pos + VirtioPciRegs.VIRTIO_PCI_CAP_LEN);
                byte bar = Pci.Read8(pos + VirtioPciRegs.VIRTIO_PCI_CAP_BAR);
                if (capLen < minCapLen) { find_capability_skip(pos, cfgType, "cap_len too short"u8, capLen); continue; }
                if (bar > 5) { find_capability_skip(pos, cfgType, "reserved BAR index"u8, bar); continue; }
                PciBar b = Pci.Bar(bar);
                if (b == null || !b.IsImplemented) { find_capability_skip(pos, cfgType, "BAR not implemented"u8, bar); continue; }
                return pos;
            }
            return 0;
        }

        // vp_modern_map_capability: validate and map part of the structure described by the
        // capability at `off`: `start` bytes in, at most `size` bytes, at least `minlen`,
        // offset aligned to `align`, and all of it inside the BAR.
        public DriverError vp_modern_map_capability(uint off, ulong minlen, uint align, ulong start, ulong size,
                                                    out ulong addr, out ulong mappedLen)
        {
            addr = 0;
            mappedLen = 0;
            byte type = Pci.Read8(off + VirtioPciRegs.VIRTIO_PCI_CAP_CFG_TYPE);
            byte barIndex = Pci.Read8(off + VirtioPciRegs.VIRTIO_PCI_CAP_BAR);
            ulong offset = Pci.Read32(off + VirtioPciRegs.VIRTIO_PCI_CAP_OFFSET);
            ulong length = Pci.Read32(off + VirtioPciRegs.VIRTIO_PCI_CAP_LENGTH);

            if (length <= start || length - start < minlen)
            {
                map_capability_error(off, type, "length too short"u8, length);
                return DriverError.CapLengthTooShort;
            }
            length -= start;
            offset += start;   // both are < 2^32 + 2^32: no wrap in 64 bits
            if ((offset & (align - 1)) != 0)
            {
                map_capability_error(off, type, "offset not aligned"u8, offset);
                return DriverError.CapMisaligned;
            }
            if (length > size) length = size;

            PciBar bar = Pci.Bar(barIndex);
            if (bar == null || !bar.IsImplemented || offset > bar.Size || length > bar.Size - offset)
            {
                map_capability_error(off, type, "region outside its BAR, offset"u8, offset);
                return DriverError.CapOutsideBar;
            }
            if (!bar.IsMemory)
            {
                map_capability_error(off, type, "structure in an I/O BAR (unsupported), BAR"u8, barIndex);
                return DriverError.BarNotMemory;
            }
            if (bar.Address == 0)
            {
                map_capability_error(off, type, "BAR not assigned, BAR"u8, barIndex);
                return DriverError.BarNotAssigned;
            }
            ulong mapLen = length == 0 ? 1 : length;
            addr = Io.ioremap(bar.CpuAddress + offset, mapLen);
            if (addr == 0)
            {
                map_capability_error(off, type, "ioremap failed at"u8, bar.CpuAddress + offset);
                return DriverError.IoremapFailed;
            }
            mappedLen = length;
            return DriverError.Ok;
        }

        // ---- the registers (one helper per Linux function, one access per register) --------

        public ulong vp_modern_get_features()
        {
            Io.iowrite32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_DFSELECT, 0);
            ulong features = Io.ioread32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_DF);
            Io.iowrite32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_DFSELECT, 1);
            features |= (ulong)Io.ioread32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_DF) << 32;
            return features;
        }

        public void vp_modern_set_features(ulong features)
        {
            Io.iowrite32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_GFSELECT, 0);
            Io.iowrite32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_GF, (uint)features);
            Io.iowrite32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_GFSELECT, 1);
            Io.iowrite32(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_GF, (uint)(features >> 32));
        }

        public byte vp_modern_generation()
        {
            return Io.ioread8(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_CFGGENERATION);
        }

        public byte vp_modern_get_status()
        {
            return Io.ioread8(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_STATUS);
        }

        // One 8-bit write of the whole status byte.
        public void vp_modern_set_status(byte status)
        {
            Io.iowrite8(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_STATUS, status);
        }

        public ushort vp_modern_get_num_queues()
        {
            return Io.ioread16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_NUMQ);
        }

        public ushort vp_modern_get_queue_size(ushort index)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            return Io.ioread16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SIZE);
        }

        public void vp_modern_set_queue_size(ushort index, ushort size)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SIZE, size);
        }

        public bool vp_modern_get_queue_enable(ushort index)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            return Io.ioread16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_ENABLE) != 0;
        }

        public void vp_modern_set_queue_enable(ushort index, bool enable)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_ENABLE, (ushort)(enable ? 1 : 0));
        }

        // The three ring areas (§2.7: descriptor table, driver area = available ring, device
        // area = used ring). 64-bit fields written as low then high 32-bit halves
        // (§4.1.3.1 allows it; Linux: vp_iowrite64_twopart).
        public void vp_modern_queue_address(ushort index, ulong descAddr, ulong driverAddr, ulong deviceAddr)
        {
            ulong c = Common;
            Io.iowrite16(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            Io.iowrite32(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_DESCLO, (uint)descAddr);
            Io.iowrite32(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_DESCHI, (uint)(descAddr >> 32));
            Io.iowrite32(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_AVAILLO, (uint)driverAddr);
            Io.iowrite32(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_AVAILHI, (uint)(driverAddr >> 32));
            Io.iowrite32(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_USEDLO, (uint)deviceAddr);
            Io.iowrite32(c + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_USEDHI, (uint)(deviceAddr >> 32));
        }

        public ushort vp_modern_get_queue_notify_off(ushort index)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            return Io.ioread16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_NOFF);
        }

        // vp_modern_map_vq_notify: the queue's notification address is
        // notify base + queue_notify_off * notify_off_multiplier (§4.1.4.4); the 2-byte
        // write must fit inside the notification structure.
        public DriverError vp_modern_map_vq_notify(ushort index, out ulong addr)
        {
            addr = 0;
            ushort off = vp_modern_get_queue_notify_off(index);
            ulong at = (ulong)off * NotifyOffMultiplier;
            if (at + 2 > NotifyLen)
            {
                Narrate.Error(Pci, "vp_modern_map_vq_notify"u8, "bad notification offset %u (x %u) for queue %u > %u"u8, off, NotifyOffMultiplier, index, NotifyLen);
                return DriverError.NotifyOffsetOutOfRange;
            }
            addr = NotifyBase + at;
            return DriverError.Ok;
        }

        // MSI-X vectors (§4.1.5.1.2): for interrupt delivery, which comes later. Each returns
        // what the device read back; VIRTIO_MSI_NO_VECTOR means it had no room for it.
        public ushort vp_modern_config_vector(ushort vector)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_MSIX, vector);
            return Io.ioread16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_MSIX);
        }

        public ushort vp_modern_queue_vector(ushort index, ushort vector)
        {
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_SELECT, index);
            Io.iowrite16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_MSIX, vector);
            if (DriverFaults.Fire(DriverFaults.VectorNoReadBack)) return vector;
            return Io.ioread16(Common + VirtioPciRegs.VIRTIO_PCI_COMMON_Q_MSIX);
        }

        // ---- messages (dev_err) ------------------------------------------------------------

        private void probe_error(ReadOnlySpan<byte> what)
        {
            Narrate.Error(Pci, "vp_modern_probe"u8, "%s"u8, what);
        }

        private void find_capability_skip(uint pos, byte cfgType, ReadOnlySpan<byte> why, ulong value)
        {
            Narrate.Error(Pci, "virtio_pci_find_capability"u8, "ignoring %s capability at %#x: %s (%u)"u8,
                          VirtioPciRegs.CfgTypeName(cfgType), pos, why, value);
        }

        private void map_capability_error(uint pos, byte cfgType, ReadOnlySpan<byte> why, ulong value)
        {
            Narrate.Error(Pci, "vp_modern_map_capability"u8, "%s capability at %#x: %s %#x"u8,
                          VirtioPciRegs.CfgTypeName(cfgType), pos, why, value);
        }
    }
}
