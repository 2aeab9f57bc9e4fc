using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Rng;
using GuestOS.Hal;

namespace GuestOS.Drivers
{
    // The one entry point the kernel calls:
    //
    //   PciConfigAccess cfg = new PciConfigPort();                       // x86: pc / q35
    //   PciConfigAccess cfg = PciConfigEcam.Map(ecamPhys, 0, 255);       // q35 (MCFG) or arm64 virt (DT)
    //   PciHostWindows w = null;                                         // firmware assigned BARs (x86)
    //   PciHostWindows w = new PciHostWindows(); w.Mem32Base = ...;      // arm64 virt: from DT `ranges`
    //   VirtioRng[] rngs;
    //   DriverError e = DriverStack.Start(cfg, w, out rngs);
    //   if (e != DriverError.Ok) { Log.Write(DriverErrors.Name(e)); ... exit((int)e); }
    //   long n = rngs[0].Read(buf, 32);                                  // n == 32, or -(long)error
    public static class DriverStack
    {
        // Enumerate PCI (every bus, device and function; assigning BARs and bus numbers from
        // `windows` when it is not null), print the listing, bring up every virtio-rng device.
        // rngs: the devices that came up (never null). Returns Ok if at least one did;
        // NoVirtioDevice if there is none; otherwise the first device's error.
        public static DriverError Start(PciConfigAccess cfg, PciHostWindows windows, out VirtioRng[] rngs)
        {
            rngs = new VirtioRng[0];
            if (cfg == null) return DriverError.EcamMapFailed;

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
            if (devices.Length == 0)
            {
                Log.Write("pci: no device answered configuration reads"u8);
                Log.Line();
                return DriverError.NoPciDevices;
            }
            if (!Log.Quiet) Lspci.Print(devices);

            int candidates = 0;
            for (int i = 0; i < devices.Length; i++)
                if (VirtioRng.virtrng_match(devices[i])) candidates++;
            if (candidates == 0)
            {
                Log.Write("virtio_rng: no virtio entropy device (1af4:1044, or 1af4:1005 with subsystem 4) among "u8);
                Log.Dec((ulong)devices.Length);
                Log.Write(" PCI functions"u8);
                Log.Line();
                return DriverError.NoVirtioDevice;
            }

            VirtioRng[] up = new VirtioRng[candidates];
            int count = 0;
            DriverError firstError = DriverError.Ok;
            for (int i = 0; i < devices.Length; i++)
            {
                PciDevice d = devices[i];
                if (!VirtioRng.virtrng_match(d)) continue;
                DriverError err;
                VirtioRng rng = VirtioRng.virtrng_probe(d, count, out err);
                if (rng == null)
                {
                    Log.Write("virtio_rng: "u8);
                    d.WriteBdf();
                    Log.Write(": bring-up failed: "u8);
                    Log.Write(DriverErrors.Name(err));
                    Log.Line();
                    if (firstError == DriverError.Ok) firstError = err;
                    continue;
                }
                up[count++] = rng;
            }

            rngs = new VirtioRng[count];
            for (int i = 0; i < count; i++) rngs[i] = up[i];
            if (count == 0) return firstError;
            return DriverError.Ok;
        }
    }
}
