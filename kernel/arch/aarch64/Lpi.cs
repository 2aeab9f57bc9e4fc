using System;
using GuestOS.Hal;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel.Arch
{
    // Locality-specific Peripheral Interrupts (ARM IHI 0069, "LPIs"): message-based interrupts
    // from INTID 8192 up, whose configuration lives in memory, not in registers. The
    // redistributor reads two tables:
    //   - the LPI Configuration table (GICR_PROPBASER), one byte per LPI from INTID 8192:
    //     priority [7:2], bit 1 RES1, Enable [0];
    //   - the LPI Pending table (GICR_PENDBASER), one bit per INTID (the first 1 KiB covers the
    //     INTIDs below 8192 and is unused), 64 KiB aligned.
    // Both must be in place before GICR_CTLR.EnableLPIs is set; after that they are fixed.
    internal static unsafe class Lpi
    {
        private const ulong GICR_PROPBASER = 0x0070, GICR_PENDBASER = 0x0078;
        private const uint GICR_CTLR_ENABLE_LPIS = 1u << 0;
        // Table attributes: InnerCache [9:7] = 0b111 (Normal write-back, read/write-allocate),
        // Shareability [11:10] = 0b01 (Inner Shareable), the attributes of our RAM mapping.
        private const ulong InnerWriteBack = 7UL << 7, InnerShareable = 1UL << 10, ShareabilityMask = 3UL << 10;
        private const ulong GICR_PENDBASER_PTZ = 1UL << 62;   // the pending table is all zeros
        private const int MaxIdBits = 14;                      // INTIDs < 16384: 8192 LPIs
        private const byte Priority = 0xA0, Res1 = 1 << 1, Enable = 1 << 0;

        private static byte* properties;
        internal static uint Count;                            // LPIs 8192 .. 8192 + Count - 1
        private static uint next;

        // Allocate and hand over both tables, then enable LPIs. False (with the reason logged)
        // when this GIC cannot deliver LPIs.
        internal static bool Init()
        {
            if (!GicV3.HasLpis) return Refuse("the GIC does not support LPIs (GICD_TYPER.LPIS / GICR_TYPER.PLPIS)"u8);
            int idBits = GicV3.IdBits < MaxIdBits ? (int)GicV3.IdBits : MaxIdBits;
            if (idBits <= 13) return Refuse("GICD_TYPER.IDbits leaves no room for LPIs"u8);
            if ((Io.ioread32(GicV3.Redist + GicV3.GICR_CTLR) & GICR_CTLR_ENABLE_LPIS) != 0)
                return Refuse("GICR_CTLR.EnableLPIs is already set: the LPI tables cannot be changed"u8);
            Count = (1u << idBits) - GicV3.FirstLpi;

            ulong propBytes = Count, pendBytes = (1UL << idBits) / 8;
            ulong prop = PageAllocator.Allocate(Pages(propBytes));
            ulong pend = PageAllocator.AllocateAligned(Pages(pendBytes), 64 * 1024);
            if (prop == 0 || pend == 0) return Refuse("no memory for the LPI tables"u8);
            properties = (byte*)prop;

            ulong propbaser = prop | InnerShareable | InnerWriteBack | (uint)(idBits - 1);
            Io.iowrite64(GicV3.Redist + GICR_PROPBASER, propbaser);
            Io.iowrite64(GicV3.Redist + GICR_PENDBASER, pend | InnerShareable | InnerWriteBack | GICR_PENDBASER_PTZ);
            // A GIC that cannot snoop the caches reports Non-shareable; our tables are cached
            // memory, so it would read stale bytes. Real hardware may do this; QEMU does not.
            if ((Io.ioread64(GicV3.Redist + GICR_PROPBASER) & ShareabilityMask) == 0 ||
                (Io.ioread64(GicV3.Redist + GICR_PENDBASER) & ShareabilityMask) == 0)
                return Refuse("the redistributor does not accept shareable LPI tables (cache maintenance is not written)"u8);

            Barrier.wmb();                                     // tables zeroed before the GIC reads them
            Io.iowrite32(GicV3.Redist + GicV3.GICR_CTLR, Io.ioread32(GicV3.Redist + GicV3.GICR_CTLR) | GICR_CTLR_ENABLE_LPIS);
            if (Log.Quiet) return true;
            Log.Write("gic: LPIs "u8); Log.Dec(GicV3.FirstLpi); Log.Write("-"u8); Log.Dec(GicV3.FirstLpi + Count - 1);
            Log.Write(", configuration table "u8); Log.Hex(prop); Log.Write(", pending table "u8); Log.Hex(pend);
            Log.Line();
            return true;
        }

        // The next LPI, configured enabled at the default priority. The ITS command that maps
        // it must be followed by INV so the redistributor rereads this byte.
        internal static bool Allocate(out uint intid)
        {
            intid = 0;
            if (properties == null || next >= Count) return false;
            properties[next] = Priority | Res1 | Enable;
            intid = GicV3.FirstLpi + next++;
            Barrier.wmb();                                     // visible before the ITS command that names it
            return true;
        }

        private static ulong Pages(ulong bytes) => (bytes + PageAllocator.PageSize - 1) / PageAllocator.PageSize;

        private static bool Refuse(ReadOnlySpan<byte> why)
        {
            Log.Write("gic: no LPIs: "u8); Log.Write(why); Log.Line();
            return false;
        }
    }
}
