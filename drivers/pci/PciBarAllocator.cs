using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // Gives unassigned BARs addresses from the host bridge windows (what firmware does on a PC,
    // and Linux's pci_assign_unassigned_resources does on arm64 without firmware).
    // A bump allocator per window: every BAR is naturally aligned (its address is a multiple
    // of its size, PCI 3.0 §6.2.5.1), bridge windows are aligned to their granularity
    // (1 MiB memory, 4 KiB I/O) and nest inside each other as the scan descends.
    public sealed class PciBarAllocator
    {
        public const ulong PCIBIOS_MIN_IO = 0x1000;  // keep clear of legacy ISA ports, like Linux
        private const ulong FourGiB = 0x100000000;

        private readonly PciHostWindows _w;
        private ulong _mem32Next, _mem32End;   // [next, end)
        private ulong _mem64Next, _mem64End;
        private ulong _ioNext, _ioEnd;

        public PciBarAllocator(PciHostWindows w)
        {
            _w = w;
            _mem32Next = w.Mem32Base;
            _mem32End = w.Mem32Base + w.Mem32Size;
            if (_mem32End > FourGiB) _mem32End = FourGiB;          // 32-bit BARs cannot go higher
            if (_mem32Next >= _mem32End) { _mem32Next = 0; _mem32End = 0; }
            _mem64Next = w.Mem64Base;
            _mem64End = w.Mem64Size == 0 ? w.Mem64Base : w.Mem64Base + w.Mem64Size;
            _ioNext = w.IoBase < PCIBIOS_MIN_IO ? PCIBIOS_MIN_IO : w.IoBase;
            _ioEnd = w.IoBase + w.IoSize;
            if (_ioEnd > 0x10000) _ioEnd = 0x10000;                   // 16-bit I/O decoders
            if (w.IoSize == 0 || _ioNext >= _ioEnd) { _ioNext = 0; _ioEnd = 0; }
        }

        public bool HasMem64 { get { return _mem64End > _mem64Next; } }
        public bool HasIo { get { return _ioEnd > _ioNext; } }

        public static ulong AlignUp(ulong v, ulong align)
        {
            return (v + align - 1) & ~(align - 1);
        }

        // Carve `size` bytes, aligned to `size`, from [next, end). Returns 0 if it does not fit.
        private static ulong Carve(ref ulong next, ulong end, ulong size)
        {
            if (size == 0 || end == 0) return 0;
            ulong addr = AlignUp(next, size);
            if (addr < next || addr >= end || size > end - addr) return 0;   // wrapped or full
            next = addr + size;
            return addr;
        }

        // Assign an address to one BAR of d and program it. mem64Reachable: a 64-bit window
        // address would be forwarded all the way to d (true on the root bus; behind bridges
        // only through 64-bit prefetchable windows). Returns false if no window had room.
        public bool Assign(PciDevice d, PciBar bar, bool mem64Reachable)
        {
            ulong addr = 0;
            if (bar.Kind == PciBarKind.Io)
            {
                if (bar.Size < 4) return false;
                addr = Carve(ref _ioNext, _ioEnd, bar.Size);
                if (addr == 0) return false;
                bar.Assign(d, addr, _w.IoCpuBase + (addr - _w.IoBase));
                Narrate(d, bar);
                return true;
            }
            if (bar.Kind != PciBarKind.Mem32 && bar.Kind != PciBarKind.Mem64) return false;

            bool may64 = bar.Kind == PciBarKind.Mem64 && mem64Reachable && HasMem64;
            if (may64 && _w.Mem64Preferred) addr = Carve(ref _mem64Next, _mem64End, bar.Size);
            if (addr == 0) addr = Carve(ref _mem32Next, _mem32End, bar.Size);
            if (addr == 0 && may64 && !_w.Mem64Preferred) addr = Carve(ref _mem64Next, _mem64End, bar.Size);
            if (addr == 0) return false;
            bar.Assign(d, addr, addr);
            Narrate(d, bar);
            return true;
        }

        // "pci 00:01.0: BAR4 mem64 pref size 0x4000 <- 0x10000000  PCI 3.0 6.2.5.1 [pci_assign_resource]"
        private static void Narrate(PciDevice d, PciBar bar)
        {
            if (Log.Quiet) return;
            Log.Write("pci "u8);
            d.WriteBdf();
            Log.Write(": BAR"u8);
            Log.Dec((ulong)bar.Index);
            Log.Write(' ');
            Log.Write(PciBar.KindName(bar.Kind));
            if (bar.Prefetchable) Log.Write(" pref"u8);
            Log.Write(" size "u8);
            Log.Hex(bar.Size);
            Log.Write(" <- "u8);
            Log.Hex(bar.Address);
            if (bar.Kind == PciBarKind.Io) { Log.Write(" (CPU "u8); Log.Hex(bar.CpuAddress); Log.Write(')'); }
            Log.Write("  PCI 3.0 6.2.5.1 [__pci_read_base, pci_assign_resource]"u8);
            Log.Line();
        }

        // Assign every implemented BAR of d, largest first (fewer alignment holes).
        public void AssignAll(PciDevice d, bool mem64Reachable)
        {
            if (d.Bars == null) return;
            int n = d.Bars.Length;
            bool[] done = new bool[n];
            for (int round = 0; round < n; round++)
            {
                int best = -1;
                for (int i = 0; i < n; i++)
                {
                    PciBar b = d.Bars[i];
                    if (done[i] || b == null || !b.IsImplemented) continue;
                    if (best < 0 || b.Size > d.Bars[best].Size) best = i;
                }
                if (best < 0) break;
                done[best] = true;
                PciBar bar = d.Bars[best];
                if (!Assign(d, bar, mem64Reachable))
                {
                    Log.Write("pci "u8);
                    d.WriteBdf();
                    Log.Write(": no room for BAR"u8);
                    Log.Dec((ulong)bar.Index);
                    Log.Write(" ("u8);
                    Log.Write(PciBar.KindName(bar.Kind));
                    Log.Write(" size "u8);
                    Log.Hex(bar.Size);
                    Log.Write("): left unassigned"u8);
                    Log.Line();
                }
            }
        }

        // Bridge windows: before scanning behind a bridge, align the cursors to the window
        // granularity and remember where the window starts; afterwards align again to find
        // where it ends. Everything assigned in between lies inside the window.
        public ulong Mem32Cursor(bool align) { if (align && _mem32End != 0) _mem32Next = AlignUpClamped(_mem32Next, PciRegs.BRIDGE_MEM_ALIGN, _mem32End); return _mem32Next; }
        public ulong Mem64Cursor(bool align) { if (align && HasMem64) _mem64Next = AlignUpClamped(_mem64Next, PciRegs.BRIDGE_MEM_ALIGN, _mem64End); return _mem64Next; }
        public ulong IoCursor(bool align) { if (align && _ioEnd != 0) _ioNext = AlignUpClamped(_ioNext, PciRegs.BRIDGE_IO_ALIGN, _ioEnd); return _ioNext; }

        private static ulong AlignUpClamped(ulong v, ulong align, ulong end)
        {
            ulong a = AlignUp(v, align);
            if (a < v || a > end) return end;
            return a;
        }
    }
}
