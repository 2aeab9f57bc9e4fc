using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // GICv3 (ARM IHI 0069): with affinity routing (ARE) on, a distributor handles SPIs, one
    // redistributor per CPU handles that CPU's SGIs, PPIs and LPIs, and the CPU interface is
    // system registers (boot/aarch64/gicv3.S). Only CPU 0 runs, so only its redistributor is
    // set up. Everything is Group 1 Non-secure, signalled as IRQ.
    internal static class GicV3
    {
        // Distributor (IHI 0069, "The GIC Distributor register map")
        private const ulong GICD_CTLR = 0x0000, GICD_TYPER = 0x0004, GICD_IGROUPR = 0x0080, GICD_ISENABLER = 0x0100,
                            GICD_ICENABLER = 0x0180, GICD_ISPENDR = 0x0200, GICD_IPRIORITYR = 0x0400, GICD_ICFGR = 0x0C00,
                            GICD_IROUTER = 0x6000;
        private const uint GICD_CTLR_RWP = 1u << 31;   // register write pending
        private const uint GICD_CTLR_ARE = 1u << 4;    // ARE (one security state) / ARE_NS (Non-secure view)
        private const uint GICD_CTLR_ENABLE_G1 = 1u << 1; // EnableGrp1 / EnableGrp1A: Non-secure Group 1
        private const uint GICD_TYPER_LPIS = 1u << 17;

        // Redistributor: RD_base frame, then the SGI_base frame 64 KiB above it
        internal const ulong GICR_CTLR = 0x0000, GICR_TYPER = 0x0008, GICR_WAKER = 0x0014;
        private const ulong SgiFrame = 0x10000;
        private const ulong GICR_IGROUPR0 = 0x0080, GICR_ISENABLER0 = 0x0100, GICR_ICENABLER0 = 0x0180,
                            GICR_IPRIORITYR = 0x0400, GICR_IGRPMODR0 = 0x0D00;
        private const uint GICR_CTLR_RWP = 1u << 3;
        private const uint GICR_WAKER_PROCESSOR_SLEEP = 1u << 1, GICR_WAKER_CHILDREN_ASLEEP = 1u << 2;
        internal const ulong GICR_TYPER_PLPIS = 1UL << 0, GICR_TYPER_VLPIS = 1UL << 1, GICR_TYPER_LAST = 1UL << 4;

        private const uint DefaultPriority = 0xA0;     // what Linux uses; PMR 0xFF lets it through
        internal const uint FirstSpecialIntid = 1020, FirstLpi = 8192;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_cpu_has_sysregs")] private static extern ulong CpuHasSysregs();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_read_mpidr")] private static extern ulong ReadMpidr();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_read_sre")] private static extern ulong ReadSre();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_write_sre")] private static extern void WriteSre(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_write_pmr")] private static extern void WritePmr(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_write_bpr1")] private static extern void WriteBpr1(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_write_igrpen1")] private static extern void WriteIgrpen1(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_read_iar1")] private static extern ulong ReadIar1();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_write_eoir1")] private static extern void WriteEoir1(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "gic_write_sgi1r")] private static extern void WriteSgi1r(ulong value);

        internal static ulong DistPhys, RedistPhys;    // RedistPhys: CPU 0's RD_base frame
        internal static ulong Redist;                  // mapped RD_base of CPU 0
        internal static ulong RedistTyper;
        internal static uint IdBits;                   // GICD_TYPER.IDbits + 1: INTIDs are < 2^IdBits
        internal static bool HasLpis;
        private static ulong dist, mpidr;

        internal static bool Init()
        {
            DtNode gic = DeviceTree.FindCompatible("arm,gic-v3"u8, 0);
            if (!DeviceTree.GetReg(gic, 0, out DistPhys, out ulong distSize)) return false;
            if (CpuHasSysregs() == 0)
            {
                Log.Write("gic: GICv3 in the device tree, but this CPU has no GIC system register interface"u8);
                Log.Line();
                return false;
            }
            if ((dist = Io.ioremap(DistPhys, distSize)) == 0) Panic.Halt("gic: the GICv3 distributor could not be mapped"u8);
            mpidr = ReadMpidr();
            if (!FindRedistributor(gic)) Panic.Halt("gic: no GICv3 redistributor in the device tree matches this CPU's MPIDR affinity"u8);

            uint typer = Io.ioread32(dist + GICD_TYPER);
            IdBits = ((typer >> 19) & 0x1F) + 1;
            HasLpis = (typer & GICD_TYPER_LPIS) != 0 && (RedistTyper & GICR_TYPER_PLPIS) != 0;
            InitDistributor(typer);
            WakeRedistributor();
            InitSgisAndPpis();
            InitCpuInterface();
            return true;
        }

        // Distributor: off, every SPI Group 1 and disabled, then affinity routing and Group 1 on.
        // ARE may only change while the groups are disabled (IHI 0069, GICD_CTLR).
        private static void InitDistributor(uint typer)
        {
            Io.iowrite32(dist + GICD_CTLR, 0);
            WaitClear(dist + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP"u8);
            uint lines = (typer & 0x1F) + 1;             // ITLinesNumber: 32 * lines INTIDs below 1020
            for (uint i = 1; i < lines; i++)             // register 0 (SGIs, PPIs) lives in the redistributor
            {
                Io.iowrite32(dist + GICD_IGROUPR + i * 4, 0xFFFFFFFF);
                Io.iowrite32(dist + GICD_ICENABLER + i * 4, 0xFFFFFFFF);
            }
            WaitClear(dist + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP"u8);
            Io.iowrite32(dist + GICD_CTLR, GICD_CTLR_ARE);
            WaitClear(dist + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP"u8);
            Io.iowrite32(dist + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1);
            WaitClear(dist + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP"u8);
            if ((Io.ioread32(dist + GICD_CTLR) & GICD_CTLR_ARE) == 0)
                Panic.Halt("gic: GICD_CTLR.ARE did not stick: affinity routing is required and cannot be turned on"u8);
        }

        // The redistributor regions are a sequence of frames, one per CPU: RD_base and SGI_base
        // (128 KiB), plus two more with virtual LPIs (GICR_TYPER.VLPIS, GICv4), unless the node
        // gives a `redistributor-stride`. GICR_TYPER's top half is the CPU's affinity
        // Aff3.Aff2.Aff1.Aff0; GICR_TYPER.Last marks a region's last frame.
        private static bool FindRedistributor(DtNode gic)
        {
            ulong affinity = (mpidr >> 32 & 0xFF) << 24 | (mpidr & 0xFFFFFF);
            uint regions = 1, stride = 0;
            DeviceTree.GetU32(gic, "#redistributor-regions"u8, out regions);
            DeviceTree.GetU32(gic, "redistributor-stride"u8, out stride);
            for (int r = 0; r < (int)(regions == 0 ? 1 : regions); r++)
            {
                if (!DeviceTree.GetReg(gic, 1 + r, out ulong phys, out ulong size)) return false;
                ulong region = Io.ioremap(phys, size);
                if (region == 0) Panic.Halt("gic: a GICv3 redistributor region could not be mapped"u8);
                for (ulong at = 0; at + 2 * SgiFrame <= size;)
                {
                    ulong frameTyper = Io.ioread64(region + at + GICR_TYPER);
                    if (frameTyper >> 32 == affinity)
                    {
                        RedistPhys = phys + at;
                        Redist = region + at;
                        RedistTyper = frameTyper;
                        return true;
                    }
                    if ((frameTyper & GICR_TYPER_LAST) != 0) break;
                    at += stride != 0 ? stride : (frameTyper & GICR_TYPER_VLPIS) != 0 ? 4 * SgiFrame : 2 * SgiFrame;
                }
            }
            return false;
        }

        // A redistributor starts asleep: clear ProcessorSleep, wait for ChildrenAsleep to clear
        // (IHI 0069, GICR_WAKER; "Power management").
        private static void WakeRedistributor()
        {
            Io.iowrite32(Redist + GICR_WAKER, Io.ioread32(Redist + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
            WaitClear(Redist + GICR_WAKER, GICR_WAKER_CHILDREN_ASLEEP, "GICR_WAKER.ChildrenAsleep"u8);
        }

        // SGIs 0-15 and PPIs 16-31: all disabled, Group 1 Non-secure (IGROUPR0 = 1,
        // IGRPMODR0 = 0), default priority. Each is enabled when a handler is attached.
        private static void InitSgisAndPpis()
        {
            ulong sgi = Redist + SgiFrame;
            Io.iowrite32(sgi + GICR_ICENABLER0, 0xFFFFFFFF);
            WaitClear(Redist + GICR_CTLR, GICR_CTLR_RWP, "GICR_CTLR.RWP"u8);
            Io.iowrite32(sgi + GICR_IGROUPR0, 0xFFFFFFFF);
            Io.iowrite32(sgi + GICR_IGRPMODR0, 0);
            uint four = DefaultPriority * 0x01010101u;
            for (ulong i = 0; i < 32; i += 4) Io.iowrite32(sgi + GICR_IPRIORITYR + i, four);
        }

        // The CPU interface: system registers on (ICC_SRE_EL1.SRE), every priority unmasked,
        // no preemption grouping, Group 1 interrupts signalled.
        private static void InitCpuInterface()
        {
            WriteSre(ReadSre() | 1);
            if ((ReadSre() & 1) == 0) Panic.Halt("gic: ICC_SRE_EL1.SRE stays 0: the GICv3 CPU interface cannot be used through system registers"u8);
            WritePmr(0xFF);
            WriteBpr1(0);
            WriteIgrpen1(1);
        }

        // INTIDs 32 .. 32 * (GICD_TYPER.ITLinesNumber + 1) - 1 are SPIs the distributor has.
        internal static uint LineCount => 32 * ((Io.ioread32(dist + GICD_TYPER) & 0x1F) + 1);

        // A wired SPI (already Group 1 and disabled by InitDistributor): priority, edge or level,
        // routed to this CPU's affinity (GICD_IROUTER.Interrupt_Routing_Mode 0: that one PE),
        // then enabled. Linux: gic_set_type, gic_set_affinity, gic_unmask_irq.
        internal static void ConfigureSpi(uint intid, bool level)
        {
            Io.iowrite8(dist + GICD_IPRIORITYR + intid, (byte)DefaultPriority);
            GicV2.SetTrigger(dist + GICD_ICFGR, intid, level);
            WaitClear(dist + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP"u8);
            Io.iowrite64(dist + GICD_IROUTER + intid * 8, (mpidr >> 32 & 0xFF) << 32 | (mpidr & 0xFFFFFF));
            Io.iowrite32(dist + GICD_ISENABLER + (intid / 32) * 4, 1u << (int)(intid % 32));
        }

        internal static bool IsLevel(uint intid) => GicV2.TriggerIsLevel(dist + GICD_ICFGR, intid);

        // GICD_ISPENDR: make an SPI pending from software (self tests).
        internal static void SetPending(uint intid) => Io.iowrite32(dist + GICD_ISPENDR + (intid / 32) * 4, 1u << (int)(intid % 32));

        internal static void EnableSgiOrPpi(uint intid)
            => Io.iowrite32(Redist + SgiFrame + GICR_ISENABLER0, 1u << (int)intid);

        // ICC_SGI1R_EL1: INTID [27:24], Aff3 [55:48], Aff2 [39:32], Aff1 [23:16], and the target
        // list [15:0] of Aff0 values (RS [47:44] selects which 16 of them). This CPU only.
        internal static void SendSelf(uint sgi)
        {
            ulong aff0 = mpidr & 0xFF, aff1 = mpidr >> 8 & 0xFF, aff2 = mpidr >> 16 & 0xFF, aff3 = mpidr >> 32 & 0xFF;
            WriteSgi1r(aff3 << 48 | (aff0 >> 4) << 44 | aff2 << 32 | (ulong)sgi << 24 | aff1 << 16 | 1UL << (int)(aff0 & 15));
        }

        internal static uint Acknowledge() => (uint)(ReadIar1() & 0xFFFFFF);
        internal static void EndOfInterrupt(uint intid) => WriteEoir1(intid);

        // A bit the GIC clears when it has done something; a GIC that never does is broken.
        internal static void WaitClear(ulong register, uint bit, ReadOnlySpan<byte> what)
        {
            ulong deadline = Clock.NowNs() + 100 * 1000 * 1000UL;
            while ((Io.ioread32(register) & bit) != 0)
            {
                if (Clock.NowNs() > deadline) { Log.Write("gic: "u8); Log.Write(what); Log.Write(" still set after 100 ms"u8); Log.Line(); Panic.Halt("gic: the GICv3 did not respond"u8); }
                Cpu.Relax();
            }
        }
    }
}
