using System;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // Wired interrupts as the device tree names them: a node's own `interrupts`, and a PCI
    // function's INTx pin through the host bridge's `interrupt-map`. Both end in a GIC
    // interrupt specifier (Linux Documentation/devicetree/bindings/interrupt-controller/
    // arm,gic.yaml): <type number flags>, type 0 = SPI (INTID 32 + number), 1 = PPI
    // (INTID 16 + number); flags[3:0] = 1 rising edge, 4 level high (2 and 8 are not allowed
    // for SPIs). Linux: gic_irq_domain_translate.
    internal static unsafe class DtInterrupts
    {
        private const uint SpiType = 0, FirstSpi = 32, IrqTypeEdgeRising = 1, IrqTypeLevelHigh = 4;

        // The `index`-th interrupt of the node, in its interrupt parent's cells.
        internal static bool OfNode(DtNode node, int index, out WiredIrq irq)
        {
            irq = default;
            DtNode parent = DeviceTree.FindByPhandle(DeviceTree.InterruptParent(node));
            if (!DeviceTree.GetU32(parent, "#interrupt-cells"u8, out uint cells) || cells == 0) return false;
            if (!DeviceTree.GetProperty(node, "interrupts"u8, out byte* interrupts, out int length)) return false;
            if ((index + 1) * (int)cells * 4 > length) return false;
            return FromGicSpecifier(interrupts + index * (int)cells * 4, (int)cells, out irq);
        }

        // PCI INTx on the host bridge's interrupt-map: the child is (phys.hi = bus << 16 |
        // device << 11 | function << 8, phys.mid = phys.lo = 0, pin) (IEEE 1275 PCI binding,
        // and Documentation/devicetree/bindings/pci/host-generic-pci.yaml). The map only covers
        // functions on the root bus: for one behind bridges the caller asks with the topmost
        // bridge and the pin turned by each (drivers/pci/PciSwizzle.cs, pci_common_swizzle).
        internal static bool PciIntx(DtNode host, ushort requesterId, byte pin, out WiredIrq irq)
        {
            irq = default;
            if (pin < 1 || pin > 4) return Refuse(requesterId, pin, "the pin is not 1-4 (INTA-INTD)"u8);
            uint firstBus = 0;
            if (DeviceTree.GetProperty(host, "bus-range"u8, out byte* range, out int rangeLength) && rangeLength >= 4)
                firstBus = DeviceTree.Be32(range);
            if ((uint)(requesterId >> 8) != firstBus) return Refuse(requesterId, pin, "the function is not on the root bus (swizzle it to its bridge first)"u8);
            uint* child = stackalloc uint[4];
            child[0] = (uint)requesterId << 8;     // bus << 16 | device << 11 | function << 8
            child[1] = 0; child[2] = 0;
            child[3] = pin;
            if (!InterruptMap.Lookup(host, child, 4, out DtNode parent, out byte* specifier, out int cells, out ReadOnlySpan<byte> error))
                return Refuse(requesterId, pin, error);
            if (!FromGicSpecifier(specifier, cells, out irq)) return Refuse(requesterId, pin, "its interrupt-map entry is not a GIC SPI"u8);
            if (!Log.Quiet)
            {
                Log.Write("devicetree: PCI "u8); Log.Hex(requesterId, 4); Log.Write(" INT"u8); Log.Write((char)('A' + pin - 1));
                Log.Write(" -> "u8); Describe(irq); Log.Write(" (interrupt-map)"u8); Log.Line();
            }
            return true;
        }

        // "SPI 16 (INTID 48) edge"
        internal static void Describe(WiredIrq irq)
        {
            Log.Write("SPI "u8); Log.Dec(irq.Number - FirstSpi); Log.Write(" (INTID "u8); Log.Dec(irq.Number);
            Log.Write(irq.Level ? ") level"u8 : ") edge"u8);
        }

        // Only SPIs become WiredIrqs: PPIs are per CPU (the timer's; Interrupts.AttachPpi).
        private static bool FromGicSpecifier(byte* cells, int count, out WiredIrq irq)
        {
            irq = default;
            if (count < 3) return false;
            uint type = DeviceTree.Be32(cells), number = DeviceTree.Be32(cells + 4), flags = DeviceTree.Be32(cells + 8) & 0xF;
            if (type != SpiType || number > 987 || (flags != IrqTypeEdgeRising && flags != IrqTypeLevelHigh)) return false;
            irq.Number = FirstSpi + number;
            irq.Level = flags == IrqTypeLevelHigh;
            irq.Valid = true;
            return true;
        }

        private static bool Refuse(ushort requesterId, byte pin, ReadOnlySpan<byte> why)
        {
            Log.Write("devicetree: no INTx route for PCI "u8); Log.Hex(requesterId, 4); Log.Write(" pin "u8); Log.Dec(pin);
            Log.Write(": "u8); Log.Write(why); Log.Line();
            return false;
        }
    }
}
