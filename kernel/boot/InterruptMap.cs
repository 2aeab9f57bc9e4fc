using System;

namespace GuestOS.Kernel.Boot
{
    // An interrupt nexus's `interrupt-map` (Devicetree Specification v0.4, 2.4.3): how a child's
    // interrupt, named by (child unit address, child interrupt specifier), reaches an interrupt
    // controller. Each entry is
    //     child unit address   (the nexus's #address-cells; 3 for PCI: phys.hi, mid, lo)
    //     child specifier      (the nexus's #interrupt-cells; 1 for PCI: the pin, INTA = 1)
    //     interrupt-parent     (a phandle)
    //     parent unit address  (the parent's #address-cells, 0 when it has none)
    //     parent specifier     (the parent's #interrupt-cells)
    // and a child matches when (child & interrupt-map-mask) equals the entry's child cells.
    // Linux: of_irq_parse_raw.
    public static unsafe class InterruptMap
    {
        private const int MaxChildCells = 8;    // 3 + 1 for PCI; more is a malformed tree
        private const int MaxParentCells = 8;

        // The entry matching `child` (childCells = address cells then specifier cells, host
        // order): its controller, and where in the blob the parent specifier's cells are.
        // False with `error` set when nothing matches or the map is malformed.
        public static bool Lookup(DtNode nexus, uint* child, int childCells, out DtNode parent, out byte* specifier,
                                  out int specifierCells, out ReadOnlySpan<byte> error)
        {
            parent = default; parent.Offset = -1; specifier = null; specifierCells = 0; error = default;
            if (!DeviceTree.GetProperty(nexus, "interrupt-map"u8, out byte* map, out int length))
                return Fail(out error, "the node has no interrupt-map"u8);
            uint addressCells = 0, interruptCells = 0;
            DeviceTree.GetU32(nexus, "#address-cells"u8, out addressCells);
            if (!DeviceTree.GetU32(nexus, "#interrupt-cells"u8, out interruptCells))
                return Fail(out error, "the nexus has no #interrupt-cells"u8);
            int cells = (int)(addressCells + interruptCells);
            if (cells != childCells || cells > MaxChildCells) return Fail(out error, "the child specifier has the wrong number of cells"u8);

            // interrupt-map-mask: absent means every bit counts.
            uint* mask = stackalloc uint[MaxChildCells];
            bool hasMask = DeviceTree.GetProperty(nexus, "interrupt-map-mask"u8, out byte* maskCells, out int maskLength);
            if (hasMask && maskLength != cells * 4) return Fail(out error, "interrupt-map-mask has the wrong length"u8);
            for (int i = 0; i < cells; i++) mask[i] = hasMask ? DeviceTree.Be32(maskCells + i * 4) : 0xFFFFFFFF;

            for (int at = 0; at < length;)
            {
                if (at + (cells + 1) * 4 > length) return Fail(out error, "interrupt-map ends inside an entry"u8);
                byte* entry = map + at;
                bool match = true;
                for (int i = 0; i < cells; i++)
                    if ((child[i] & mask[i]) != DeviceTree.Be32(entry + i * 4)) match = false;
                DtNode controller = DeviceTree.FindByPhandle(DeviceTree.Be32(entry + cells * 4));
                if (!controller.Found) return Fail(out error, "an interrupt-map entry names a phandle no node has"u8);
                uint parentAddress = 0, parentInterrupt = 0;
                DeviceTree.GetU32(controller, "#address-cells"u8, out parentAddress);
                if (!DeviceTree.GetU32(controller, "#interrupt-cells"u8, out parentInterrupt))
                    return Fail(out error, "an interrupt-map entry's parent has no #interrupt-cells"u8);
                if (parentAddress + parentInterrupt > MaxParentCells) return Fail(out error, "an interrupt-map entry's parent has too many cells"u8);
                int entryBytes = (cells + 1 + (int)(parentAddress + parentInterrupt)) * 4;
                if (at + entryBytes > length) return Fail(out error, "interrupt-map ends inside an entry"u8);
                if (match)
                {
                    parent = controller;
                    specifier = entry + (cells + 1 + (int)parentAddress) * 4;
                    specifierCells = (int)parentInterrupt;
                    return true;
                }
                at += entryBytes;
            }
            return Fail(out error, "no interrupt-map entry matches"u8);
        }

        private static bool Fail(out ReadOnlySpan<byte> error, ReadOnlySpan<byte> why)
        {
            error = why;
            return false;
        }
    }
}
