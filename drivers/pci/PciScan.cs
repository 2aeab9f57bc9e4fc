using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // Enumeration (Linux: pci_scan_child_bus / pci_scan_slot / pci_scan_bridge): every device
    // 0..31 of a bus, every function 0..7 of a multi-function device, and every bus behind a
    // PCI-to-PCI bridge, depth first.
    //
    // Two modes:
    //  - firmware mode (windows == null, x86 with SeaBIOS): bus numbers and BARs are already
    //    set; the scan only reads them. A bridge whose secondary bus is unset, not above its
    //    own bus, beyond the reachable range or already scanned is skipped (loop protection).
    //  - assign mode (windows given, arm64 virt with -kernel): nothing is set up. Like Linux
    //    without firmware, bridges get bus numbers (primary/secondary/subordinate), every BAR
    //    gets an address from the windows, and bridges get forwarding windows around what
    //    lies behind them.
    public sealed class PciScan
    {
        private readonly PciConfigAccess _cfg;
        private readonly PciBarAllocator _alloc;   // null in firmware mode
        private PciDevice[] _devices;
        private int _count;
        private uint _lastBus;                      // highest bus number handed out so far
        private readonly ulong[] _busScanned;       // 256 bits

        private PciScan(PciConfigAccess cfg, PciHostWindows windows)
        {
            _cfg = cfg;
            _alloc = windows == null ? null : new PciBarAllocator(windows);
            _devices = new PciDevice[16];
            _busScanned = new ulong[4];
        }

        // Enumerate everything reachable through cfg. Returns the functions found (exact length).
        public static PciDevice[] Enumerate(PciConfigAccess cfg, PciHostWindows windows)
        {
            PciScan s = new PciScan(cfg, windows);
            s._lastBus = cfg.FirstBus;
            s.ScanBus(cfg.FirstBus, null, true);
            PciDevice[] result = new PciDevice[s._count];
            for (int i = 0; i < s._count; i++) result[i] = s._devices[i];
            return result;
        }

        private bool BusScanned(uint bus) { return (_busScanned[bus >> 6] & (1UL << (int)(bus & 63))) != 0; }
        private void MarkBusScanned(uint bus) { _busScanned[bus >> 6] |= 1UL << (int)(bus & 63); }

        private void Add(PciDevice d)
        {
            if (_count == _devices.Length)
            {
                PciDevice[] bigger = new PciDevice[_devices.Length * 2];
                for (int i = 0; i < _count; i++) bigger[i] = _devices[i];
                _devices = bigger;
            }
            _devices[_count++] = d;
        }

        // Linux pci_bus_generic_read_dev_vendor_id: these id words mean "nobody home".
        public static bool Present(uint id)
        {
            return id != 0xFFFFFFFF && id != 0x00000000 && id != 0x0000FFFF && id != 0xFFFF0000;
        }

        private void ScanBus(uint bus, PciDevice parent, bool mem64Reachable)
        {
            MarkBusScanned(bus);
            for (uint dev = 0; dev < 32; dev++)
            {
                // Function 0 must exist for the slot to hold anything (PCI 3.0 §6.2.1).
                if (!Present(_cfg.Read32(bus, dev, 0, PciRegs.PCI_VENDOR_ID))) continue;
                byte hdr = _cfg.Read8(bus, dev, 0, PciRegs.PCI_HEADER_TYPE);
                uint functions = (hdr & PciRegs.PCI_HEADER_TYPE_MFD) != 0 ? 8u : 1u;
                for (uint fn = 0; fn < functions; fn++)
                {
                    if (fn != 0 && !Present(_cfg.Read32(bus, dev, fn, PciRegs.PCI_VENDOR_ID))) continue;
                    PciDevice d = ReadFunction(bus, dev, fn);
                    d.Parent = parent;
                    Add(d);
                    if (d.IsBridge) ScanBridge(d, mem64Reachable);
                    else if (_alloc != null && d.HeaderType == PciRegs.PCI_HEADER_TYPE_NORMAL) _alloc.AssignAll(d, mem64Reachable);
                }
            }
        }

        private PciDevice ReadFunction(uint bus, uint dev, uint fn)
        {
            PciDevice d = new PciDevice();
            d.Cfg = _cfg;
            d.Bus = bus;
            d.Dev = dev;
            d.Fn = fn;
            uint id = d.Read32(PciRegs.PCI_VENDOR_ID);
            d.VendorId = (ushort)id;
            d.DeviceId = (ushort)(id >> 16);
            uint cr = d.Read32(PciRegs.PCI_CLASS_REVISION);
            d.Revision = (byte)cr;
            d.ClassCode = cr >> 8;
            byte hdr = d.Read8(PciRegs.PCI_HEADER_TYPE);
            d.HeaderType = (byte)(hdr & PciRegs.PCI_HEADER_TYPE_MASK);
            d.MultiFunction = (hdr & PciRegs.PCI_HEADER_TYPE_MFD) != 0;
            d.InterruptPin = d.Read8(PciRegs.PCI_INTERRUPT_PIN);
            if (d.HeaderType == PciRegs.PCI_HEADER_TYPE_NORMAL)
            {
                d.SubsystemVendorId = d.Read16(PciRegs.PCI_SUBSYSTEM_VENDOR_ID);
                d.SubsystemId = d.Read16(PciRegs.PCI_SUBSYSTEM_ID);
                d.BarCount = 6;
            }
            else if (d.HeaderType == PciRegs.PCI_HEADER_TYPE_BRIDGE)
            {
                d.BarCount = 2;
            }
            // Assign mode sizes them now, as Linux's scan does; firmware mode when first needed.
            if (_alloc != null) d.SizeBars();
            PciCapabilities.Read(d);
            return d;
        }

        private void ScanBridge(PciDevice b, bool mem64Reachable)
        {
            if (_alloc == null)
            {
                // Firmware mode: follow the numbers firmware programmed.
                uint sec = b.Read8(PciRegs.PCI_SECONDARY_BUS);
                uint sub = b.Read8(PciRegs.PCI_SUBORDINATE_BUS);
                b.SecondaryBus = sec;
                b.SubordinateBus = sub;
                if (sec <= b.Bus || sec < _cfg.FirstBus || sec > _cfg.LastBus || BusScanned(sec))
                {
                    Log.Write("pci "u8);
                    b.WriteBdf();
                    Log.Write(": bridge secondary bus "u8);
                    Log.Dec(sec);
                    Log.Write(" unusable (unset, out of range or already scanned): not followed"u8);
                    Log.Line();
                    return;
                }
                ScanBus(sec, b, false);
                return;
            }

            // Assign mode: number the buses depth first (Linux: pci_scan_bridge_extend, pass 2).
            if (_lastBus >= _cfg.LastBus)
            {
                Log.Write("pci "u8);
                b.WriteBdf();
                Log.Write(": no bus number left for the bridge's secondary side"u8);
                Log.Line();
                return;
            }
            uint next = _lastBus + 1;
            _lastBus = next;
            // Subordinate = the highest reachable bus for now, so configuration cycles for any
            // deeper bus are forwarded while we scan; narrowed once the subtree is known.
            uint buses = b.Read32(PciRegs.PCI_PRIMARY_BUS);
            buses = (buses & 0xFF000000) | (_cfg.LastBus << 16) | (next << 8) | b.Bus;
            b.Write32(PciRegs.PCI_PRIMARY_BUS, buses);
            b.SecondaryBus = next;

            _alloc.AssignAll(b, mem64Reachable);   // a bridge's own BARs live on the primary side

            // Which windows does this bridge implement? (Linux: pci_read_bridge_windows probes
            // them by writing and reading back.)
            bool hasIo = ProbeIoWindow(b);
            bool pref64 = ProbePref64Window(b);

            ulong memStart = _alloc.Mem32Cursor(true);
            ulong ioStart = _alloc.IoCursor(true);
            ulong prefStart = _alloc.Mem64Cursor(true);

            ScanBus(next, b, mem64Reachable && pref64);

            ulong memEnd = _alloc.Mem32Cursor(true);
            ulong ioEnd = _alloc.IoCursor(true);
            ulong prefEnd = _alloc.Mem64Cursor(true);

            SetMemWindow(b, memStart, memEnd);
            if (hasIo) SetIoWindow(b, ioStart, ioEnd);
            if (pref64) SetPrefWindow(b, prefStart, prefEnd);
            else SetPrefWindow(b, 0, 0);

            b.SubordinateBus = _lastBus;
            buses = (buses & 0xFF00FFFF) | (_lastBus << 16);
            b.Write32(PciRegs.PCI_PRIMARY_BUS, buses);
            if (!Log.Quiet)
            {
                Log.Write("pci "u8);
                b.WriteBdf();
                Log.Write(": bridge buses "u8);
                Log.Dec(b.Bus);
                Log.Write(" -> "u8);
                Log.Dec(next);
                Log.Write(".."u8);
                Log.Dec(_lastBus);
                Log.Write(", windows mem "u8);
                PrintWindow(memStart, memEnd);
                Log.Write(" io "u8);
                PrintWindow(hasIo ? ioStart : 0, hasIo ? ioEnd : 0);
                Log.Write(" pref "u8);
                PrintWindow(pref64 ? prefStart : 0, pref64 ? prefEnd : 0);
                Log.Write("  PCI-PCI bridge 1.2 3.2.5 [pci_scan_bridge_extend, pci_setup_bridge]"u8);
                Log.Line();
            }

            // Forward memory and I/O downstream, and DMA upstream.
            ushort cmd = b.Read16(PciRegs.PCI_COMMAND);
            cmd = (ushort)(cmd | PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER | (hasIo ? PciRegs.PCI_COMMAND_IO : 0));
            b.Write16(PciRegs.PCI_COMMAND, cmd);
        }

        private static void PrintWindow(ulong start, ulong end)
        {
            if (end <= start) { Log.Write("off"u8); return; }
            Log.Hex(start);
            Log.Write('-');
            Log.Hex(end - 1);
        }

        private static bool ProbeIoWindow(PciDevice b)
        {
            ushort orig = b.Read16(PciRegs.PCI_IO_BASE);
            if (orig != 0) return true;
            b.Write16(PciRegs.PCI_IO_BASE, 0xF0F0);
            ushort back = b.Read16(PciRegs.PCI_IO_BASE);
            b.Write16(PciRegs.PCI_IO_BASE, orig);
            return back != 0;
        }

        private static bool ProbePref64Window(PciDevice b)
        {
            ushort orig = b.Read16(PciRegs.PCI_PREF_MEMORY_BASE);
            ushort back = orig;
            if (orig == 0)
            {
                b.Write16(PciRegs.PCI_PREF_MEMORY_BASE, 0xFFF0);
                back = b.Read16(PciRegs.PCI_PREF_MEMORY_BASE);
                b.Write16(PciRegs.PCI_PREF_MEMORY_BASE, orig);
                if (back == 0) return false;
            }
            return (back & PciRegs.PCI_PREF_RANGE_TYPE_MASK) == PciRegs.PCI_PREF_RANGE_TYPE_64;
        }

        // A window is [start, end); an empty one is programmed with base > limit (disabled).
        private static void SetMemWindow(PciDevice b, ulong start, ulong end)
        {
            if (end <= start) { b.Write16(PciRegs.PCI_MEMORY_BASE, 0xFFF0); b.Write16(PciRegs.PCI_MEMORY_LIMIT, 0); return; }
            b.Write16(PciRegs.PCI_MEMORY_BASE, (ushort)((start >> 16) & 0xFFF0));
            b.Write16(PciRegs.PCI_MEMORY_LIMIT, (ushort)(((end - 1) >> 16) & 0xFFF0));
        }

        private static void SetIoWindow(PciDevice b, ulong start, ulong end)
        {
            if (end <= start)
            {
                b.Write8(PciRegs.PCI_IO_BASE, 0xF0);
                b.Write8(PciRegs.PCI_IO_LIMIT, 0);
                b.Write32(PciRegs.PCI_IO_BASE_UPPER16, 0);
                return;
            }
            b.Write32(PciRegs.PCI_IO_BASE_UPPER16, ((uint)((end - 1) >> 16) << 16) | (uint)(start >> 16));
            b.Write8(PciRegs.PCI_IO_BASE, (byte)((start >> 8) & 0xF0));
            b.Write8(PciRegs.PCI_IO_LIMIT, (byte)(((end - 1) >> 8) & 0xF0));
        }

        private static void SetPrefWindow(PciDevice b, ulong start, ulong end)
        {
            if (end <= start)
            {
                b.Write32(PciRegs.PCI_PREF_LIMIT_UPPER32, 0);
                b.Write16(PciRegs.PCI_PREF_MEMORY_BASE, 0xFFF0);
                b.Write16(PciRegs.PCI_PREF_MEMORY_LIMIT, 0);
                b.Write32(PciRegs.PCI_PREF_BASE_UPPER32, 0);
                return;
            }
            b.Write16(PciRegs.PCI_PREF_MEMORY_BASE, (ushort)((start >> 16) & 0xFFF0));
            b.Write16(PciRegs.PCI_PREF_MEMORY_LIMIT, (ushort)(((end - 1) >> 16) & 0xFFF0));
            b.Write32(PciRegs.PCI_PREF_BASE_UPPER32, (uint)(start >> 32));
            b.Write32(PciRegs.PCI_PREF_LIMIT_UPPER32, (uint)((end - 1) >> 32));
        }
    }
}
