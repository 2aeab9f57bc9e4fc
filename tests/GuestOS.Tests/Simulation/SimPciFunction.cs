using System;
using System.Collections.Generic;

namespace GuestOS.Tests.Simulation
{
    public enum SimBarKind { None, Io, Mem32, Mem64 }

    public sealed class SimBarDef
    {
        public SimBarKind Kind;
        public ulong Size;          // power of 2
        public bool Prefetchable;
        public bool Io16;           // I/O BAR that decodes only 16 bits (upper half reads 0)
    }

    // One PCI function at register level: a 4 KiB configuration space with per-bit write
    // masks, BARs with sizing semantics (write all-ones, read back the size mask), a command
    // register, and a capability list built by AddCapability. Subclasses add MMIO behaviour.
    public class SimPciFunction
    {
        public readonly byte[] Config = new byte[4096];
        public readonly byte[] WriteMask = new byte[4096];
        public readonly SimBarDef[] Bars;
        public SimBus Bus;          // the bus it sits on
        public uint Dev, Fn;
        public string Name;
        public int BarSizingWrites; // all-ones writes seen on BARs
        public readonly List<string> ConfigWrites = new List<string>();
        private byte _lastCap;      // offset of the last capability added (list is built in order)
        private int _capEnd = 0x40;

        public SimPciFunction(ushort vendor, ushort device, uint classCode, byte headerType, int barCount)
        {
            Name = $"{vendor:x4}:{device:x4}";
            W16(0x00, vendor);
            W16(0x02, device);
            Config[0x08] = 1;                               // revision
            Config[0x09] = (byte)classCode;
            Config[0x0A] = (byte)(classCode >> 8);
            Config[0x0B] = (byte)(classCode >> 16);
            Config[0x0E] = headerType;
            // command: I/O, memory, bus master, INTx disable are writable
            WriteMask[0x04] = 0x07;
            WriteMask[0x05] = 0x04;
            WriteMask[0x0C] = 0xFF;                         // cache line size
            WriteMask[0x0D] = 0xFF;                         // latency timer
            WriteMask[0x3C] = 0xFF;                         // interrupt line
            Bars = new SimBarDef[barCount];
            for (int i = 0; i < barCount; i++) Bars[i] = new SimBarDef();
        }

        public bool MultiFunction { set { if (value) Config[0x0E] |= 0x80; else Config[0x0E] &= 0x7F; } }

        public void W8(int off, byte v) { Config[off] = v; }
        public void W16(int off, ushort v) { Config[off] = (byte)v; Config[off + 1] = (byte)(v >> 8); }
        public void W32(int off, uint v) { for (int i = 0; i < 4; i++) Config[off + i] = (byte)(v >> (8 * i)); }
        public ushort R16(int off) { return (ushort)(Config[off] | (Config[off + 1] << 8)); }
        public uint R32(int off) { return (uint)(Config[off] | (Config[off + 1] << 8) | (Config[off + 2] << 16) | (Config[off + 3] << 24)); }

        public ushort Command => R16(0x04);
        public bool MemoryEnabled => (Command & 2) != 0;
        public bool IoEnabled => (Command & 1) != 0;
        public bool BusMaster => (Command & 4) != 0;

        public void DefineBar(int index, SimBarKind kind, ulong size, bool prefetchable = false, bool io16 = false)
        {
            if (size != 0 && (size & (size - 1)) != 0) throw new ArgumentException("BAR size must be a power of 2");
            Bars[index] = new SimBarDef { Kind = kind, Size = size, Prefetchable = prefetchable, Io16 = io16 };
            WriteBarRegister(index, 0);
            if (kind == SimBarKind.Mem64) WriteBarRegister(index + 1, 0);
        }

        // Firmware-style pre-assignment.
        public void PresetBar(int index, ulong address)
        {
            WriteBarRegister(index, (uint)address);
            if (Bars[index].Kind == SimBarKind.Mem64) WriteBarRegister(index + 1, (uint)(address >> 32));
        }

        // The address a BAR currently decodes (0 = unassigned / not implemented).
        public ulong BarAddress(int index)
        {
            SimBarDef b = Bars[index];
            uint lo = R32(0x10 + index * 4);
            switch (b.Kind)
            {
                case SimBarKind.Io: return lo & ~3u;
                case SimBarKind.Mem32: return lo & ~0xFu;
                case SimBarKind.Mem64: return ((ulong)R32(0x14 + index * 4) << 32) | (lo & ~0xFu);
            }
            return 0;
        }

        private bool IsBarRegister(int dwordOff, out int index)
        {
            index = (dwordOff - 0x10) / 4;
            return dwordOff >= 0x10 && index < Bars.Length;
        }

        // Apply BAR semantics to a value written to BAR dword `index`.
        private void WriteBarRegister(int index, uint value)
        {
            int off = 0x10 + index * 4;
            // Upper half of a 64-bit BAR?
            if (index > 0 && Bars[index - 1].Kind == SimBarKind.Mem64)
            {
                ulong mask = ~(Bars[index - 1].Size - 1);
                W32(off, value & (uint)(mask >> 32));
                return;
            }
            SimBarDef b = Bars[index];
            switch (b.Kind)
            {
                case SimBarKind.None: W32(off, 0); break;
                case SimBarKind.Io:
                    {
                        uint mask = (uint)~(b.Size - 1) & ~3u;
                        if (b.Io16) mask &= 0xFFFF;
                        W32(off, (value & mask) | 1);
                        break;
                    }
                case SimBarKind.Mem32:
                    W32(off, (value & (uint)~(b.Size - 1) & ~0xFu) | (b.Prefetchable ? 8u : 0u));
                    break;
                case SimBarKind.Mem64:
                    W32(off, (value & (uint)~(b.Size - 1) & ~0xFu) | 4u | (b.Prefetchable ? 8u : 0u));
                    break;
            }
        }

        // Builds a capability; body excludes the 2-byte header. Returns its offset.
        public int AddCapability(byte id, byte[] body, int at = -1)
        {
            int pos = at >= 0 ? at : _capEnd;
            Config[pos] = id;
            Config[pos + 1] = 0;
            Array.Copy(body, 0, Config, pos + 2, body.Length);
            if (_lastCap == 0) Config[0x34] = (byte)pos;
            else Config[_lastCap + 1] = (byte)pos;
            _lastCap = (byte)pos;
            _capEnd = Math.Max(_capEnd, (pos + 2 + body.Length + 3) & ~3);
            W16(0x06, (ushort)(R16(0x06) | 0x10));   // status: capability list
            return pos;
        }

        public virtual uint ConfigRead(uint offset, int width)
        {
            uint v = 0;
            for (int i = 0; i < width; i++) v |= (uint)Config[offset + i] << (8 * i);
            return v;
        }

        public virtual void ConfigWrite(uint offset, int width, uint value)
        {
            ConfigWrites.Add($"W{width * 8} +0x{offset:x2} = 0x{value:x}");
            int dword = (int)(offset & ~3u);
            if (IsBarRegister(dword, out int index))
            {
                uint cur = R32(dword);
                for (int i = 0; i < width; i++)
                {
                    int sh = (int)((offset - dword + i) * 8);
                    cur = (cur & ~(0xFFu << sh)) | (((value >> (8 * i)) & 0xFF) << sh);
                }
                if (cur == 0xFFFFFFFF) BarSizingWrites++;
                WriteBarRegister(index, cur);
                return;
            }
            for (int i = 0; i < width; i++)
            {
                int o = (int)offset + i;
                byte m = WriteMask[o];
                Config[o] = (byte)((Config[o] & ~m) | (int)(((value >> (8 * i)) & 0xFF) & m));
            }
            AfterConfigWrite(offset, width, value);
        }

        protected virtual void AfterConfigWrite(uint offset, int width, uint value) { }

        // MMIO/IO inside one of this function's BARs.
        public virtual ulong BarRead(int bar, ulong offset, int width) { return ulong.MaxValue; }
        public virtual void BarWrite(int bar, ulong offset, int width, ulong value) { }

        public virtual void Tick() { }
    }

    // A PCI-to-PCI bridge (type 1 header) with a secondary bus.
    public sealed class SimBridge : SimPciFunction
    {
        public readonly SimBus Secondary = new SimBus();
        public readonly bool Pref64;

        public SimBridge(bool pref64 = true, bool hasIo = true) : base(0x1b36, 0x000c, 0x060400, 1, 2)
        {
            Pref64 = pref64;
            Secondary.UpstreamBridge = this;
            WriteMask[0x18] = WriteMask[0x19] = WriteMask[0x1A] = WriteMask[0x1B] = 0xFF;
            if (hasIo) { WriteMask[0x1C] = 0xF0; WriteMask[0x1D] = 0xF0; Config[0x1C] = 0x01; Config[0x1D] = 0x01; for (int i = 0x30; i < 0x34; i++) WriteMask[i] = 0xFF; }
            WriteMask[0x20] = 0xF0; WriteMask[0x21] = 0xFF; WriteMask[0x22] = 0xF0; WriteMask[0x23] = 0xFF;
            WriteMask[0x24] = 0xF0; WriteMask[0x25] = 0xFF; WriteMask[0x26] = 0xF0; WriteMask[0x27] = 0xFF;
            if (pref64) { Config[0x24] = 0x01; Config[0x26] = 0x01; for (int i = 0x28; i < 0x30; i++) WriteMask[i] = 0xFF; }
            WriteMask[0x3E] = 0xFF; WriteMask[0x3F] = 0x0F;
            // A PCIe capability, as a root port would have.
            AddCapability(0x10, new byte[] { 0x42, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 });
        }

        public byte SecondaryBus => Config[0x19];
        public byte SubordinateBus => Config[0x1A];

        public ulong MemBase => (ulong)(R16(0x20) & 0xFFF0) << 16;
        public ulong MemLimit => ((ulong)(R16(0x22) & 0xFFF0) << 16) | 0xFFFFF;
        public ulong PrefBase => ((ulong)R32(0x28) << 32) | ((ulong)(R16(0x24) & 0xFFF0) << 16);
        public ulong PrefLimit => ((ulong)R32(0x2C) << 32) | ((ulong)(R16(0x26) & 0xFFF0) << 16) | 0xFFFFF;
        public ulong IoBase => ((ulong)R16(0x30) << 16) | ((ulong)(Config[0x1C] & 0xF0) << 8);
        public ulong IoLimit => ((ulong)R16(0x32) << 16) | ((ulong)(Config[0x1D] & 0xF0) << 8) | 0xFFF;

        public bool ForwardsMem(ulong addr)
        {
            if (!MemoryEnabled) return false;
            if (MemBase <= MemLimit && addr >= MemBase && addr <= MemLimit) return true;
            return PrefBase <= PrefLimit && addr >= PrefBase && addr <= PrefLimit;
        }

        public bool ForwardsIo(ulong port) => IoEnabled && IoBase <= IoLimit && port >= IoBase && port <= IoLimit;
    }

    public sealed class SimBus
    {
        public readonly SimPciFunction[,] Slots = new SimPciFunction[32, 8];
        public SimBridge UpstreamBridge;

        public T Add<T>(uint dev, uint fn, T f) where T : SimPciFunction
        {
            Slots[dev, fn] = f;
            f.Bus = this;
            f.Dev = dev;
            f.Fn = fn;
            return f;
        }

        public IEnumerable<SimPciFunction> Functions()
        {
            for (int d = 0; d < 32; d++)
                for (int f = 0; f < 8; f++)
                    if (Slots[d, f] != null) yield return Slots[d, f];
        }

        public IEnumerable<SimPciFunction> AllBelow()
        {
            foreach (var f in Functions())
            {
                yield return f;
                if (f is SimBridge b)
                    foreach (var g in b.Secondary.AllBelow()) yield return g;
            }
        }
    }
}
