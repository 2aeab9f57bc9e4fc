using System;
using GuestOS.Hal;

namespace GuestOS.Kernel.Boot
{
    // A node found in the device tree, with the #address-cells/#size-cells of its parent,
    // which say how to read its `reg` property (Devicetree Specification v0.4, section 2.3.5).
    public struct DtNode
    {
        public int Offset;          // offset of its FDT_BEGIN_NODE token; -1 if not found
        public int AddressCells;
        public int SizeCells;
        public uint InheritedInterruptParent;   // the nearest ancestor's `interrupt-parent` (0: none), as found
        public bool Found => Offset >= 0;
    }

    // A reader for the flattened device tree QEMU hands an arm64 kernel (Devicetree
    // Specification v0.4, chapter 5). Big-endian; read in place, nothing is copied.
    public static unsafe class DeviceTree
    {
        private const uint Magic = 0xd00dfeed;
        private const uint FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_NOP = 4, FDT_END = 9;
        private const int MaxDepth = 16;

        private static byte* blob, structs, strings;
        private static int structSize;

        public static bool Init(ulong address)
        {
            byte* b = (byte*)address;
            if (address == 0 || Be32(b) != Magic) return false;
            blob = b;
            structs = b + Be32(b + 8);
            strings = b + Be32(b + 12);
            structSize = (int)Be32(b + 36);
            lastPhandle = 0;
            return true;
        }

        public static bool Present => blob != null;
        public static ulong TotalSize => blob == null ? 0 : Be32(blob + 4);

        public static uint Be32(byte* p) => (uint)(p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);
        public static ulong Be64(byte* p) => (ulong)Be32(p) << 32 | Be32(p + 4);

        // The n-th node (0-based) whose `compatible` list contains `compatible`.
        public static DtNode FindCompatible(ReadOnlySpan<byte> compatible, int index) => Find(compatible, default, 0, index, null, out _);

        // Every node whose `compatible` list contains `compatible`, in tree order, in ONE walk
        // (Linux: for_each_compatible_node): the first found.Length are stored, the count of all
        // is returned. Calling FindCompatible(c, 0..n) instead walks the tree n times, which
        // for QEMU virt's 32 virtio,mmio nodes cost milliseconds under TCG.
        public static int FindAllCompatible(ReadOnlySpan<byte> compatible, DtNode[] found)
        {
            Find(compatible, default, 0, 0, found, out int count);
            return count;
        }

        // The n-th node whose name is `name` or starts with `name@` (e.g. "memory", "chosen").
        public static DtNode FindByName(ReadOnlySpan<byte> name, int index) => Find(default, name, 0, index, null, out _);

        // The node whose `phandle` property is `phandle` (the value other nodes' `interrupt-parent`
        // and `interrupt-map` name it by; spec 2.3.3). The last one found is remembered: every
        // device node names the same interrupt controller (Linux keeps a phandle cache too,
        // of_find_node_by_phandle).
        public static DtNode FindByPhandle(uint phandle)
        {
            if (phandle != 0 && phandle == lastPhandle) return lastPhandleNode;
            DtNode node = Find(default, default, phandle, 0, null, out _);
            if (node.Found) { lastPhandle = phandle; lastPhandleNode = node; }
            return node;
        }

        private static uint lastPhandle;
        private static DtNode lastPhandleNode;

        // Exactly one of compatible, name, phandle selects the match: the index-th one, or, with
        // `all`, every one (stored while there is room; `count` says how many there were).
        private static DtNode Find(ReadOnlySpan<byte> compatible, ReadOnlySpan<byte> name, uint phandle, int index, DtNode[] all, out int count)
        {
            count = 0;
            DtNode result;
            result.Offset = -1; result.AddressCells = 2; result.SizeCells = 1; result.InheritedInterruptParent = 0;
            int* addressCells = stackalloc int[MaxDepth + 1];
            int* sizeCells = stackalloc int[MaxDepth + 1];
            uint* interruptParent = stackalloc uint[MaxDepth + 1];   // inherited down the tree (spec 2.4.1)
            int depth = 0;
            addressCells[0] = 2; sizeCells[0] = 1;             // the spec's defaults for the root's parent
            interruptParent[0] = 0;
            int offset = 0;
            while (offset < structSize)
            {
                int token = offset;
                uint tag = Be32(structs + offset);
                offset += 4;
                if (tag == FDT_BEGIN_NODE)
                {
                    byte* nodeName = structs + offset;
                    offset += Align4(Strlen(nodeName) + 1);
                    if (depth >= MaxDepth) return result;
                    depth++;
                    addressCells[depth] = 2; sizeCells[depth] = 1;
                    interruptParent[depth] = interruptParent[depth - 1];
                    bool match = phandle != 0 ? HasPhandle(token, phandle)
                               : !name.IsEmpty ? NameMatches(nodeName, name)
                               : HasCompatible(token, compatible);
                    if (match && (all != null || index-- == 0))
                    {
                        result.Offset = token;
                        result.AddressCells = addressCells[depth - 1];
                        result.SizeCells = sizeCells[depth - 1];
                        result.InheritedInterruptParent = interruptParent[depth - 1];
                        if (all == null) return result;
                        if (count < all.Length) all[count] = result;
                        count++;
                    }
                }
                else if (tag == FDT_END_NODE) { if (depth > 0) depth--; }
                else if (tag == FDT_PROP)
                {
                    int length = (int)Be32(structs + offset);
                    byte* propName = strings + Be32(structs + offset + 4);
                    byte* value = structs + offset + 8;
                    // A node's own #address-cells/#size-cells apply to its children.
                    if (StrEquals(propName, "#address-cells"u8)) addressCells[depth] = (int)Be32(value);
                    else if (StrEquals(propName, "#size-cells"u8)) sizeCells[depth] = (int)Be32(value);
                    else if (length >= 4 && StrEquals(propName, "interrupt-parent"u8)) interruptParent[depth] = Be32(value);
                    offset += 8 + Align4(length);
                }
                else if (tag == FDT_NOP) { }
                else break;                                    // FDT_END or corruption
            }
            return result;
        }

        // A property of the node (not of its children); false if absent.
        public static bool GetProperty(DtNode node, ReadOnlySpan<byte> name, out byte* value, out int length)
        {
            value = null; length = 0;
            if (!node.Found) return false;
            int offset = node.Offset + 4;
            offset += Align4(Strlen(structs + offset) + 1);
            while (offset < structSize)
            {
                uint tag = Be32(structs + offset);
                if (tag == FDT_NOP) { offset += 4; continue; }
                if (tag != FDT_PROP) return false;             // properties come before child nodes
                int len = (int)Be32(structs + offset + 4);
                byte* propName = strings + Be32(structs + offset + 8);
                if (StrEquals(propName, name)) { value = structs + offset + 12; length = len; return true; }
                offset += 12 + Align4(len);
            }
            return false;
        }

        // Entry `index` of the node's `reg` property as (address, size).
        public static bool GetReg(DtNode node, int index, out ulong address, out ulong size)
        {
            address = 0; size = 0;
            if (!GetProperty(node, "reg"u8, out byte* reg, out int length)) return false;
            int entryBytes = (node.AddressCells + node.SizeCells) * 4;
            if (entryBytes == 0 || (index + 1) * entryBytes > length) return false;
            byte* entry = reg + index * entryBytes;
            address = ReadCells(entry, node.AddressCells);
            size = ReadCells(entry + node.AddressCells * 4, node.SizeCells);
            return true;
        }

        public static ulong ReadCells(byte* p, int cells)
        {
            ulong value = 0;
            for (int i = 0; i < cells; i++) value = value << 32 | Be32(p + i * 4);
            return value;
        }

        public static bool GetU32(DtNode node, ReadOnlySpan<byte> name, out uint value)
        {
            value = 0;
            if (!GetProperty(node, name, out byte* p, out int length) || length < 4) return false;
            value = Be32(p);
            return true;
        }

        // The phandle of the node's interrupt parent: its own `interrupt-parent`, else the nearest
        // ancestor's (spec 2.4.1), which the walk that found the node recorded; 0 when none says.
        public static uint InterruptParent(DtNode node)
        {
            if (!node.Found) return 0;
            return GetU32(node, "interrupt-parent"u8, out uint own) ? own : node.InheritedInterruptParent;
        }

        private static bool HasPhandle(int token, uint phandle)
        {
            DtNode node = default; node.Offset = token;
            return (GetU32(node, "phandle"u8, out uint value) || GetU32(node, "linux,phandle"u8, out value)) && value == phandle;
        }

        private static bool HasCompatible(int token, ReadOnlySpan<byte> compatible)
        {
            DtNode node = default; node.Offset = token;
            if (!GetProperty(node, "compatible"u8, out byte* list, out int length)) return false;
            // A list of NUL-terminated strings.
            for (int at = 0; at < length; at += Strlen(list + at) + 1)
                if (StrEquals(list + at, compatible)) return true;
            return false;
        }

        private static bool NameMatches(byte* nodeName, ReadOnlySpan<byte> name)
        {
            int i = 0;
            for (; i < name.Length; i++) if (nodeName[i] != name[i]) return false;
            return nodeName[i] == 0 || nodeName[i] == '@';
        }

        public static bool StrEquals(byte* s, ReadOnlySpan<byte> text)
        {
            int i = 0;
            for (; i < text.Length; i++) if (s[i] != text[i]) return false;
            return s[i] == 0;
        }

        public static int Strlen(byte* s)
        {
            int n = 0;
            while (s[n] != 0) n++;
            return n;
        }

        private static int Align4(int n) => (n + 3) & ~3;
    }
}
