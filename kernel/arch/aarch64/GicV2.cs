using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // GICv2 (ARM IHI 0048B): a distributor that routes interrupts and a per-CPU interface that
    // acknowledges them. MSIs arrive through the GICv2m frame (QEMU virt's default), which turns
    // a write of an SPI number to its SETSPI register into that SPI.
    internal static class GicV2
    {
        // Distributor
        private const ulong GICD_CTLR = 0x000, GICD_TYPER = 0x004, GICD_ISENABLER = 0x100, GICD_ISPENDR = 0x200, GICD_IPRIORITYR = 0x400,
                            GICD_ITARGETSR = 0x800, GICD_ICFGR = 0xC00, GICD_SGIR = 0xF00;
        // CPU interface
        private const ulong GICC_CTLR = 0x000, GICC_PMR = 0x004, GICC_IAR = 0x00C, GICC_EOIR = 0x010;
        // GICv2m MSI frame
        private const ulong V2M_MSI_TYPER = 0x008, V2M_MSI_SETSPI_NS = 0x040;
        internal const uint FirstSpecialIntid = 1020;   // 1020-1023: spurious/special, never EOI'd

        private static ulong dist, cpu, v2m, v2mPhys;
        private static uint spiBase, spiCount, spiNext;

        internal static bool Init()
        {
            DtNode gic = DeviceTree.FindCompatible("arm,cortex-a15-gic"u8, 0);
            if (!DeviceTree.GetReg(gic, 0, out ulong d, out ulong dSize) || !DeviceTree.GetReg(gic, 1, out ulong c, out ulong cSize))
                return false;
            dist = Io.ioremap(d, dSize);
            cpu = Io.ioremap(c, cSize);
            if (dist == 0 || cpu == 0) return false;
            Io.iowrite32(dist + GICD_CTLR, 1);            // forward interrupts to CPU interfaces
            Io.iowrite32(cpu + GICC_PMR, 0xFF);           // let every priority through
            Io.iowrite32(cpu + GICC_CTLR, 1);             // signal interrupts to the CPU

            DtNode frame = DeviceTree.FindCompatible("arm,gic-v2m-frame"u8, 0);
            if (DeviceTree.GetReg(frame, 0, out ulong f, out ulong fSize) && (v2m = Io.ioremap(f, fSize)) != 0)
            {
                uint typer = Io.ioread32(v2m + V2M_MSI_TYPER);
                spiBase = (typer >> 16) & 0x3FF;
                spiCount = typer & 0x3FF;
                spiNext = spiBase;
                v2mPhys = f;
            }
            if (Log.Quiet) return true;
            Log.Write("gic: GICv2 distributor "u8); Log.Hex(d); Log.Write(", CPU interface "u8); Log.Hex(c);
            if (v2m != 0) { Log.Write(", v2m MSI frame "u8); Log.Hex(v2mPhys); Log.Write(" SPIs "u8); Log.Dec(spiBase); Log.Write("-"u8); Log.Dec(spiBase + spiCount - 1); }
            else Log.Write(", no MSI frame"u8);
            Log.Line();
            return true;
        }

        // An SPI the v2m frame can raise, configured edge-triggered for CPU 0.
        internal static bool AllocateMsiSpi(out uint spi, out ulong doorbell)
        {
            spi = 0; doorbell = 0;
            if (v2m == 0 || spiNext >= spiBase + spiCount) return false;
            spi = spiNext++;
            ConfigureSpi(spi, level: false);
            doorbell = v2mPhys + V2M_MSI_SETSPI_NS;
            return true;
        }

        internal static bool HasMsiFrame => v2m != 0;

        // An SPI the v2m frame owns is not a wired line.
        internal static bool IsMsiSpi(uint intid) => v2m != 0 && intid >= spiBase && intid < spiBase + spiCount;

        // INTIDs below 32 * (GICD_TYPER.ITLinesNumber + 1) exist (IHI 0048B, 4.3.2).
        internal static uint LineCount => 32 * ((Io.ioread32(dist + GICD_TYPER) & 0x1F) + 1);

        // A wired SPI: priority, this CPU as the target, edge or level, enabled (IHI 0048B
        // 4.3.11-4.3.13; Linux gic_set_type, gic_set_affinity). GICD_ITARGETSR0-7 are banked:
        // reading byte 0 gives this CPU interface's own bit (Linux gic_get_cpumask).
        internal static void ConfigureSpi(uint intid, bool level)
        {
            Io.iowrite8(dist + GICD_IPRIORITYR + intid, 0xA0);
            Io.iowrite8(dist + GICD_ITARGETSR + intid, Io.ioread8(dist + GICD_ITARGETSR));
            SetTrigger(dist + GICD_ICFGR, intid, level);
            Enable(intid);
        }

        // GICD_ICFGR: two bits per INTID, the upper one 1 for edge, 0 for level (same layout on GICv3).
        internal static void SetTrigger(ulong icfgrBase, uint intid, bool level)
        {
            ulong icfgr = icfgrBase + (intid / 16) * 4;
            uint edgeBit = 2u << (int)((intid % 16) * 2);
            uint value = Io.ioread32(icfgr);
            Io.iowrite32(icfgr, level ? value & ~edgeBit : value | edgeBit);
        }

        internal static bool TriggerIsLevel(ulong icfgrBase, uint intid)
            => (Io.ioread32(icfgrBase + (intid / 16) * 4) & (2u << (int)((intid % 16) * 2))) == 0;

        internal static bool IsLevel(uint intid) => TriggerIsLevel(dist + GICD_ICFGR, intid);

        // GICD_ISPENDR: the software way to make an SPI pending, with no device (self tests).
        internal static void SetPending(uint intid) => Io.iowrite32(dist + GICD_ISPENDR + (intid / 32) * 4, 1u << (int)(intid % 32));

        internal static void Enable(uint intid) => Io.iowrite32(dist + GICD_ISENABLER + (intid / 32) * 4, 1u << (int)(intid % 32));

        // Software-generated interrupt to this CPU only (TargetListFilter 0b10).
        internal static void SendSelf(uint sgi) => Io.iowrite32(dist + GICD_SGIR, (2u << 24) | sgi);

        internal static uint Acknowledge() => Io.ioread32(cpu + GICC_IAR);
        internal static void EndOfInterrupt(uint iar) => Io.iowrite32(cpu + GICC_EOIR, iar);
    }
}
