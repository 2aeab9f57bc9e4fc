using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Narration
{
    public enum IoRegionKind : byte
    {
        PciConfigEcam,      // PCIe ECAM window, bus 0 at the base
        PciConfigPorts,     // configuration mechanism #1: ports 0xCF8 (address) and 0xCFC (data)
        VirtioCommon,       // struct virtio_pci_common_cfg (spec 4.1.4.3)
        VirtioIsr,          // ISR status (4.1.4.5)
        VirtioNotify,       // notification structure (4.1.4.4)
        VirtioDevice,       // device-specific configuration (4.1.4.6)
        MsixTable,          // MSI-X table (PCI Local Bus 3.0, 6.8.2)
        VirtioMmio,         // a virtio-mmio register block (spec 4.2.2)
        VirtioLegacy,       // the legacy virtio-pci header in I/O BAR 0 (4.1.4.8)
    }

    // The device registers the drivers mapped, so that an access can be named by structure
    // and field: "common+0x14 device_status", "config 00:01.0+0x04 command". Registered as they
    // are mapped (vp_modern_probe, pci_msix_enable, the configuration access methods); an
    // address outside every region (the console, the interrupt controller) is not a device
    // access of the driver stack and is never recorded.
    public static class IoRegions
    {
        private const int Max = 32;
        private static ulong[] _bases, _lengths;
        private static IoRegionKind[] _kinds;
        private static bool[] _ports;
        private static int _count;

        // port: the region is in x86 I/O port space (configuration ports, a legacy I/O BAR).
        public static void Add(ulong start, ulong length, IoRegionKind kind, bool port = false)
        {
            if (_bases == null) { _bases = new ulong[Max]; _lengths = new ulong[Max]; _kinds = new IoRegionKind[Max]; _ports = new bool[Max]; }
            for (int i = 0; i < _count; i++)
                if (_bases[i] == start && _kinds[i] == kind) { _lengths[i] = length; return; }
            if (_count == Max) return;                      // not recorded from here on: never more than a few per device
            _bases[_count] = start; _lengths[_count] = length; _kinds[_count] = kind; _ports[_count] = port;
            _count++;
        }

        public static void Reset() { _count = 0; }

        // Forget a region that turned out to hold no device (an empty virtio-mmio slot), so
        // that 32 empty slots do not use up the table.
        public static void Remove(ulong start)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_bases[i] != start) continue;
                _count--;
                _bases[i] = _bases[_count]; _lengths[i] = _lengths[_count]; _kinds[i] = _kinds[_count]; _ports[i] = _ports[_count];
                return;
            }
        }

        // The region holding addr (an I/O port when port is set), or -1.
        internal static int Find(bool port, ulong addr)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_ports[i] != port) continue;
                if (addr - _bases[i] < _lengths[i]) return i;
            }
            return -1;
        }

        // "common+0x14 device_status", "notify+0x0", "config 00:01.0+0x04 command", "port 0xcf8 config_address".
        internal static void WriteName(int region, ulong addr)
        {
            ulong off = addr - _bases[region];
            switch (_kinds[region])
            {
                case IoRegionKind.PciConfigEcam:
                    Printk.Write("config %02x:%02x.%u+%#02x"u8, (off >> 20) & 0xFF, (off >> 15) & 31, (off >> 12) & 7, off & 0xFFF);
                    Field(PciConfigField((uint)(off & 0xFFF)));
                    return;
                case IoRegionKind.PciConfigPorts:
                    Printk.Write("port %#x"u8, addr);
                    Field(addr == 0xCF8 ? "config_address"u8 : "config_data"u8);
                    return;
                case IoRegionKind.VirtioCommon: Printk.Write("common+%#02x"u8, off); Field(CommonField((uint)off)); return;
                case IoRegionKind.VirtioIsr: Printk.Write("isr+%#x"u8, off); return;
                case IoRegionKind.VirtioNotify: Printk.Write("notify+%#x"u8, off); return;
                case IoRegionKind.VirtioDevice: Printk.Write("device+%#x"u8, off); return;
                case IoRegionKind.VirtioMmio: Printk.Write("mmio+%#03x"u8, off); Field(MmioField((uint)off)); return;
                case IoRegionKind.VirtioLegacy: Printk.Write("legacy+%#02x"u8, off); Field(LegacyField((uint)off)); return;
                default:
                    Printk.Write("msix+%#02x entry%u."u8, off, off / 16);
                    Log.Write(MsixField((uint)off % 16));
                    return;
            }
        }

        private static void Field(ReadOnlySpan<byte> name)
        {
            if (name.Length == 0) return;
            Log.Write(' ');
            Log.Write(name);
        }

        // struct virtio_pci_common_cfg, by the spec's field names (the 64-bit ring addresses
        // are written as two 32-bit halves).
        private static ReadOnlySpan<byte> CommonField(uint off)
        {
            switch (off)
            {
                case 0x00: return "device_feature_select"u8;
                case 0x04: return "device_feature"u8;
                case 0x08: return "driver_feature_select"u8;
                case 0x0c: return "driver_feature"u8;
                case 0x10: return "config_msix_vector"u8;
                case 0x12: return "num_queues"u8;
                case 0x14: return "device_status"u8;
                case 0x15: return "config_generation"u8;
                case 0x16: return "queue_select"u8;
                case 0x18: return "queue_size"u8;
                case 0x1a: return "queue_msix_vector"u8;
                case 0x1c: return "queue_enable"u8;
                case 0x1e: return "queue_notify_off"u8;
                case 0x20: return "queue_desc_lo"u8;
                case 0x24: return "queue_desc_hi"u8;
                case 0x28: return "queue_driver_lo"u8;
                case 0x2c: return "queue_driver_hi"u8;
                case 0x30: return "queue_device_lo"u8;
                case 0x34: return "queue_device_hi"u8;
                case 0x38: return "queue_notify_data"u8;
                case 0x3a: return "queue_reset"u8;
                default: return default;
            }
        }

        // The virtio-mmio registers by the spec's names (4.2.2).
        private static ReadOnlySpan<byte> MmioField(uint off)
        {
            switch (off)
            {
                case 0x000: return "MagicValue"u8;
                case 0x004: return "Version"u8;
                case 0x008: return "DeviceID"u8;
                case 0x00c: return "VendorID"u8;
                case 0x010: return "DeviceFeatures"u8;
                case 0x014: return "DeviceFeaturesSel"u8;
                case 0x020: return "DriverFeatures"u8;
                case 0x024: return "DriverFeaturesSel"u8;
                case 0x028: return "GuestPageSize"u8;
                case 0x030: return "QueueSel"u8;
                case 0x034: return "QueueNumMax"u8;
                case 0x038: return "QueueNum"u8;
                case 0x03c: return "QueueAlign"u8;
                case 0x040: return "QueuePFN"u8;
                case 0x044: return "QueueReady"u8;
                case 0x050: return "QueueNotify"u8;
                case 0x060: return "InterruptStatus"u8;
                case 0x064: return "InterruptACK"u8;
                case 0x070: return "Status"u8;
                case 0x080: return "QueueDescLow"u8;
                case 0x084: return "QueueDescHigh"u8;
                case 0x090: return "QueueDriverLow"u8;
                case 0x094: return "QueueDriverHigh"u8;
                case 0x0a0: return "QueueDeviceLow"u8;
                case 0x0a4: return "QueueDeviceHigh"u8;
                case 0x0fc: return "ConfigGeneration"u8;
                default: return off >= 0x100 ? "Config"u8 : default;
            }
        }

        // The legacy header (4.1.4.8), by its field names.
        private static ReadOnlySpan<byte> LegacyField(uint off)
        {
            switch (off)
            {
                case 0: return "device_features"u8;
                case 4: return "driver_features"u8;
                case 8: return "queue_address"u8;
                case 12: return "queue_size"u8;
                case 14: return "queue_select"u8;
                case 16: return "queue_notify"u8;
                case 18: return "device_status"u8;
                case 19: return "isr_status"u8;
                case 20: return "config_msix_vector"u8;
                case 22: return "queue_msix_vector"u8;
                default: return default;
            }
        }

        // The type-0 header's fields that drivers touch (PCI Local Bus 3.0, 6.1).
        private static ReadOnlySpan<byte> PciConfigField(uint off)
        {
            switch (off)
            {
                case 0x00: return "vendor_id"u8;
                case 0x02: return "device_id"u8;
                case 0x04: return "command"u8;
                case 0x06: return "status"u8;
                case 0x0e: return "header_type"u8;
                case 0x2c: return "subsystem_vendor_id"u8;
                case 0x2e: return "subsystem_id"u8;
                case 0x34: return "capabilities_pointer"u8;
                default: return default;
            }
        }

        private static ReadOnlySpan<byte> MsixField(uint off)
        {
            if (off < 4) return "msg_addr_lo"u8;
            if (off < 8) return "msg_addr_hi"u8;
            if (off < 12) return "msg_data"u8;
            return "vector_control"u8;
        }
    }
}
