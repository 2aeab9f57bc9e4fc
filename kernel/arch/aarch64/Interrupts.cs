using System;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // IRQs on arm64 through the GIC the device tree describes: a GICv2 ("arm,cortex-a15-gic")
    // with MSIs through its v2m frame, or a GICv3 ("arm,gic-v3") with MSIs through its ITS
    // ("arm,gic-v3-its" child), which become LPIs. Without either, interrupts stay off and
    // drivers poll.
    internal static class Interrupts
    {
        private const uint FirstSgi = 1;                 // SGI 0 left unused
        private static InterruptHandler[] handlers;      // by INTID: SGIs 0-15, PPIs 16-31, SPIs 32-1019
        private static InterruptHandler[] lpiHandlers;   // by INTID - 8192 (GICv3 with an ITS)
        private static int gicVersion;                   // 0: none
        private static bool its;
        private static DtNode itsNode;
        private static uint nextSgi = FirstSgi;
        internal static ulong Taken, Unexpected;

        internal static void Init()
        {
            if (GicV2.Init()) gicVersion = 2;
            else if (GicV3.Init()) { gicVersion = 3; InitIts(); }
            else { Log.Write("gic: no GICv2 or GICv3 in the device tree: interrupts off, drivers poll"u8); Log.Line(); return; }
            handlers = new InterruptHandler[GicV2.FirstSpecialIntid];
        }

        // LPIs and the ITS, then the line that says what the GICv3 is.
        private static void InitIts()
        {
            itsNode = DeviceTree.FindCompatible("arm,gic-v3-its"u8, 0);
            if (itsNode.Found && Lpi.Init() && Its.Init(itsNode))
            {
                its = true;
                lpiHandlers = new InterruptHandler[Lpi.Count];
            }
            if (Log.Quiet) return;
            Log.Write("gic: GICv3 distributor "u8); Log.Hex(GicV3.DistPhys);
            Log.Write(", redistributor "u8); Log.Hex(GicV3.RedistPhys); Log.Write(", "u8);
            if (its) Its.Describe();
            else Log.Write(itsNode.Found ? "ITS not usable: no MSIs"u8 : "no ITS: no MSIs"u8);
            Log.Line();
        }

        // A software-generated interrupt number for self tests.
        internal static bool AllocateVector(InterruptHandler handler, out uint vector)
        {
            vector = 0;
            if (gicVersion == 0 || nextSgi > 15) return false;
            vector = nextSgi++;
            handlers[vector] = handler;
            if (gicVersion == 2) GicV2.Enable(vector);
            else GicV3.EnableSgiOrPpi(vector);
            return true;
        }

        // A private peripheral interrupt of this CPU (INTIDs 16-31: the generic timer's).
        internal static bool AttachPpi(uint intid, InterruptHandler handler)
        {
            if (gicVersion == 0 || intid < 16 || intid > 31) return false;
            handlers[intid] = handler;
            if (gicVersion == 2) GicV2.Enable(intid);
            else GicV3.EnableSgiOrPpi(intid);
            return true;
        }

        // GICv2: an SPI of the v2m frame; the message is "write the SPI number to SETSPI_NS".
        // GICv3: a fresh LPI mapped through the ITS to the next EventID of the function's
        // DeviceID; the message is "write the EventID to GITS_TRANSLATER".
        internal static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
        {
            message = default;
            if (gicVersion == 2)
            {
                if (!GicV2.AllocateMsiSpi(out uint spi, out ulong doorbell)) return false;
                handlers[spi] = handler;
                message.Address = doorbell;
                message.Data = spi;
                return true;
            }
            if (!its || !MsiMap.Translate(itsNode, requesterId, out uint deviceId) || !Lpi.Allocate(out uint lpi)) return false;
            lpiHandlers[lpi - GicV3.FirstLpi] = handler;                // before the mapping can fire
            if (!Its.MapEvent(deviceId, lpi, out uint eventId))
            {
                lpiHandlers[lpi - GicV3.FirstLpi] = null;                // the LPI stays allocated, unused
                Log.Write("its: no EventID for DeviceID "u8); Log.Hex(deviceId); Log.Line();
                return false;
            }
            message.Address = Its.TranslaterPhys;
            message.Data = eventId;
            if (!Log.Quiet)
            {
                Log.Write("its: requester "u8); Log.Hex(requesterId, 4); Log.Write(" -> DeviceID "u8); Log.Hex(deviceId);
                Log.Write(", EventID "u8); Log.Dec(eventId); Log.Write(" -> LPI "u8); Log.Dec(lpi); Log.Line();
            }
            return true;
        }

        // Whether a self test can raise an MSI with no device: GICv2m's SETSPI_NS is an ordinary
        // register the CPU may write; the ITS has the INT command for exactly this.
        internal static bool CanRaiseMsiWithoutDevice => gicVersion == 2 ? GicV2.HasMsiFrame : its;

        // Raise what the device would: GICv2m - write the message (ioremap is the identity, so
        // the physical doorbell is its mapped address too); ITS - INT for the DeviceID and
        // EventID (a CPU write to GITS_TRANSLATER carries no PCI requester ID).
        internal static void RaiseMsiForTest(ushort requesterId, MsiMessage message)
        {
            if (gicVersion == 2) { Io.iowrite32(message.Address, message.Data); return; }
            uint deviceId = 0;
            if (!its || !MsiMap.Translate(itsNode, requesterId, out deviceId)) Panic.Halt("interrupts: no ITS to raise an MSI through"u8);
            Its.Interrupt(deviceId, message.Data);
        }

        internal static void SendSelfTest(uint vector)
        {
            if (gicVersion == 2) GicV2.SendSelf(vector);
            else if (gicVersion == 3) GicV3.SendSelf(vector);
            else Panic.Halt("interrupts: no supported interrupt controller"u8);
        }

        // IRQ exception: acknowledge, run the handler, end of interrupt (GICv2 4.4.4-4.4.5;
        // GICv3: ICC_IAR1_EL1 / ICC_EOIR1_EL1). INTIDs 1020-1023 are special (1023: spurious)
        // and are never ended.
        internal static void Handle()
        {
            if (gicVersion == 0) { Unexpected++; return; }
            uint ack = gicVersion == 2 ? GicV2.Acknowledge() : GicV3.Acknowledge();
            uint intid = gicVersion == 2 ? ack & 0x3FF : ack;
            if (intid >= GicV2.FirstSpecialIntid && intid < GicV3.FirstLpi) return;
            Taken++;
            InterruptHandler handler = null;
            if (intid < GicV2.FirstSpecialIntid) handler = handlers[intid];
            else if (lpiHandlers != null && intid - GicV3.FirstLpi < (uint)lpiHandlers.Length) handler = lpiHandlers[intid - GicV3.FirstLpi];
            if (handler != null) handler.Handle();
            else { Unexpected++; Log.Write("interrupt: unexpected INTID "u8); Log.Dec(intid); Log.Line(); }
            if (gicVersion == 2) GicV2.EndOfInterrupt(ack);
            else GicV3.EndOfInterrupt(intid);
        }

        // A wired SPI (a device tree `interrupts` or interrupt-map entry) to its handler, with
        // the trigger type the tree gave; refused when it is no SPI this GIC has or belongs to
        // the v2m frame's MSIs. A level line that has a handler is shared (SharedLine). The
        // handler runs before the end of interrupt (Handle), so a level line is acknowledged at
        // the device before the GIC looks at it again.
        internal static bool AttachWired(WiredIrq irq, InterruptHandler handler)
        {
            uint intid = irq.Number;
            if (gicVersion == 0 || !irq.Valid || handler == null) return false;
            uint lines = gicVersion == 2 ? GicV2.LineCount : GicV3.LineCount;
            if (intid < 32 || intid >= lines || intid >= GicV2.FirstSpecialIntid) return RefuseWired(intid, "not an SPI this GIC has"u8);
            if (gicVersion == 2 && GicV2.IsMsiSpi(intid)) return RefuseWired(intid, "the v2m MSI frame owns it"u8);
            if (handlers[intid] != null)
            {
                WiredIrq line = irq;
                line.Level = WiredIsLevel(intid);   // as configured when first attached
                line.ActiveLow = false;             // GIC SPIs are active high
                InterruptHandler shared = SharedLine.Attach(handlers[intid], line, irq, handler, out ReadOnlySpan<byte> why);
                if (shared == null) return RefuseWired(intid, why);
                handlers[intid] = shared;
                return true;
            }
            handlers[intid] = handler;
            if (gicVersion == 2) GicV2.ConfigureSpi(intid, irq.Level);
            else GicV3.ConfigureSpi(intid, irq.Level);
            return true;
        }

        private static bool RefuseWired(uint intid, ReadOnlySpan<byte> why)
        {
            Log.Write("gic: INTID "u8); Log.Dec(intid); Log.Write(" refused: "u8); Log.Write(why); Log.Line();
            return false;
        }

        // The trigger type the distributor holds for an SPI (self tests read back what was set).
        internal static bool WiredIsLevel(uint intid) => gicVersion == 2 ? GicV2.IsLevel(intid) : GicV3.IsLevel(intid);

        // test=wired's lines: the SPIs of the two lowest virtio-mmio slots, the first with the
        // trigger type the device tree gives (edge on QEMU), the second level-triggered as an
        // interrupt-map entry would give. QEMU fills the slots from the top: these stay empty.
        internal static bool WiredTestLine(int index, out WiredIrq irq)
        {
            irq = default;
            Drivers.Virtio.VirtioMmioSlot[] slots = Platform.VirtioMmioSlots();
            if (index > 1) return false;
            if (index >= slots.Length || !slots[index].Irq.Valid) Panic.Halt("test wired: needs two virtio-mmio slots with SPIs in the device tree"u8);
            irq = slots[index].Irq;
            if (index == 1) irq.Level = !slots[0].Irq.Level;
            return true;
        }

        // A device would lower its line when acknowledged; a line made pending by software needs nothing.
        internal static void AcknowledgeWiredTestLine() { }

        // What a device asserting the line would do, from software: GICD_ISPENDR.
        internal static void RaiseWiredForTest(uint intid)
        {
            if (gicVersion == 2) GicV2.SetPending(intid);
            else if (gicVersion == 3) GicV3.SetPending(intid);
            else Panic.Halt("interrupts: no supported interrupt controller"u8);
        }

        // The interrupt line register is not used here (no firmware wrote it): INTx comes from
        // the interrupt-map (test=wired asks which kind of routing to check).
        internal static bool IntxUsesFirmwareLine => false;

        // A PCI function's INTx through the ECAM host bridge's interrupt-map.
        internal static bool RoutePciIntx(ushort requesterId, byte pin, byte line, out WiredIrq irq)
            => DtInterrupts.PciIntx(DeviceTree.FindCompatible("pci-host-ecam-generic"u8, 0), requesterId, pin, out irq);
    }
}
