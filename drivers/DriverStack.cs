using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;

namespace GuestOS.Drivers
{
    // The one entry point the kernel calls:
    //
    //   PciConfigAccess cfg = new PciConfigPort();                       // x86: pc / q35
    //   PciConfigAccess cfg = PciConfigEcam.Map(ecamPhys, 0, 255);       // q35 (MCFG) or arm64 virt (DT)
    //   PciHostWindows w = null;                                         // firmware assigned BARs (x86)
    //   PciHostWindows w = new PciHostWindows(); w.Mem32Base = ...;      // arm64 virt: from DT `ranges`
    //   VirtioMmioSlot[] slots = ...;                                    // DT virtio,mmio nodes / ACPI LNRO0005
    //   VirtioRng[] rngs;
    //   DriverError e = DriverStack.Start(cfg, w, slots, out rngs);
    //   long n = rngs[0].virtio_read(buf, 32);                           // n == 32, or -(long)error
    //
    // Each transport finds its devices (PCI enumeration, the platform's virtio-mmio slots);
    // the virtio driver table binds them by device id, whatever the transport (Linux: the
    // virtio bus matching virtio_driver id_tables).
    public static class DriverStack
    {
        public static DriverError Start(PciConfigAccess cfg, PciHostWindows windows, out VirtioRng[] rngs)
            => Start(cfg, windows, new VirtioMmioSlot[0], out rngs);

        // Enumerate PCI (every bus, device and function; assigning BARs and bus numbers from
        // `windows` when it is not null) when cfg is not null, print the listing, probe every
        // virtio-mmio slot, and bring up every device a driver binds. rngs: the entropy
        // devices that came up (never null). Returns Ok if at least one did; NoPciDevices or
        // NoVirtioDevice if there is none; otherwise the first device's error.
        public static DriverError Start(PciConfigAccess cfg, PciHostWindows windows, VirtioMmioSlot[] slots, out VirtioRng[] rngs)
        {
            rngs = new VirtioRng[0];
            if (cfg == null && slots.Length == 0) return DriverError.EcamMapFailed;
            VirtioRngDriver rng = new VirtioRngDriver();
            VirtioDriver[] drivers = { rng };
            DriverError firstError = DriverError.Ok;
            int virtioFound = 0;

            PciDevice[] devices = cfg == null ? new PciDevice[0] : Enumerate(cfg, windows);
            BootPhases.Mark(BootPhase.Pci);
            for (int i = 0; i < devices.Length; i++)
            {
                PciDevice d = devices[i];
                int id = VirtioIds.FromPci(d);
                if (id < 0 || d.HeaderType != PciRegs.PCI_HEADER_TYPE_NORMAL) continue;
                VirtioDriver driver = Match(drivers, id);
                if (driver == null) continue;
                virtioFound++;
                DriverError err;
                d.SizeBars();                               // before the driver's own accesses (PciDevice.Bars)
                VirtioTransport t = virtio_pci_probe(d, out err);
                if (t != null) { BootPhases.Mark(BootPhase.Transport); err = driver.probe(new VirtioDevice(t)); }
                if (err != DriverError.Ok) { Failed(driver, d, null, err); if (firstError == DriverError.Ok) firstError = err; }
            }

            for (int i = 0; i < slots.Length; i++)
            {
                DriverError err;
                VirtioMmioTransport t = VirtioMmioTransport.virtio_mmio_probe(slots[i], out err);
                if (t == null)
                {
                    if (err != DriverError.Ok && firstError == DriverError.Ok) firstError = err;
                    continue;                               // an empty slot, or reported by the probe
                }
                VirtioDriver driver = Match(drivers, t.VirtioId);
                if (driver == null) continue;
                virtioFound++;
                BootPhases.Mark(BootPhase.Transport);
                err = driver.probe(new VirtioDevice(t));
                if (err != DriverError.Ok) { Failed(driver, null, t, err); if (firstError == DriverError.Ok) firstError = err; }
            }

            rngs = rng.Bound;
            if (rngs.Length > 0) return DriverError.Ok;
            if (virtioFound > 0) return firstError;
            if (cfg != null && devices.Length == 0 && slots.Length == 0) return DriverError.NoPciDevices;
            Log.Write("virtio_rng: no virtio entropy device (PCI 1af4:1044, or 1af4:1005 with subsystem 4; virtio-mmio device id 4) among "u8);
            Log.Dec((ulong)devices.Length);
            Log.Write(" PCI functions and "u8);
            Log.Dec((ulong)slots.Length);
            Log.Write(" virtio-mmio slots"u8);
            Log.Line();
            return firstError != DriverError.Ok ? firstError : DriverError.NoVirtioDevice;
        }

        // virtio_pci_probe: the modern interface if the function has one, else (a transitional
        // device with disable-modern=on) the legacy one, as Linux tries virtio_pci_modern_probe
        // then virtio_pci_legacy_probe.
        private static VirtioTransport virtio_pci_probe(PciDevice d, out DriverError err)
        {
            VirtioTransport t = VirtioPciModernTransport.virtio_pci_modern_probe(d, out err);
            if (t != null || err != DriverError.NotVirtioModern || !VirtioIds.IsTransitional(d)) return t;
            return VirtioPciLegacyTransport.virtio_pci_legacy_probe(d, out err);
        }

        private static VirtioDriver Match(VirtioDriver[] drivers, int id)
        {
            for (int i = 0; i < drivers.Length; i++)
                if (drivers[i].DeviceId == id) return drivers[i];
            return null;
        }

        private static PciDevice[] Enumerate(PciConfigAccess cfg, PciHostWindows windows)
        {
            if (!Log.Quiet)
            {
                Log.Write("pci: enumerating through "u8);
                Log.Write(cfg.Name);
                Log.Write(", buses "u8);
                Log.Dec(cfg.FirstBus);
                Log.Write(".."u8);
                Log.Dec(cfg.LastBus);
                Log.Write(windows == null ? ", BARs as firmware assigned them"u8 : ", assigning bus numbers and BARs from the host bridge windows"u8);
                Log.Line();
            }
            PciDevice[] devices = PciScan.Enumerate(cfg, windows);
            if (devices.Length == 0) { Log.Write("pci: no device answered configuration reads"u8); Log.Line(); }
            else if (!Log.Quiet) Lspci.Print(devices);
            return devices;
        }

        // "virtio_rng: 00:01.0: bring-up failed: <error>"
        private static void Failed(VirtioDriver driver, PciDevice pci, VirtioTransport t, DriverError err)
        {
            Log.Write(driver.Name);
            Log.Write(": "u8);
            if (pci != null) pci.WriteBdf(); else t.WriteName();
            Log.Write(": bring-up failed: "u8);
            Log.Write(DriverErrors.Name(err));
            Log.Line();
        }
    }
}
