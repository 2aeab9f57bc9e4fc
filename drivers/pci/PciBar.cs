using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    public enum PciBarKind
    {
        Unused = 0,     // not implemented (sizing reads back 0)
        Io = 1,         // I/O space
        Mem32 = 2,      // 32-bit memory
        Mem64 = 3,      // 64-bit memory: this BAR and the next one form one address
        Mem64Upper = 4, // the upper half of the Mem64 BAR before it
    }

    // One Base Address Register, decoded and sized (PCI Local Bus 3.0 §6.2.5.1), as Linux's
    // __pci_read_base: save, write all-ones, read the size mask back, restore.
    public sealed class PciBar
    {
        public int Index;
        public PciBarKind Kind;
        public bool Prefetchable;
        public ulong Address;     // bus address programmed in the BAR (0 = unassigned)
        public ulong Size;
        public ulong CpuAddress;  // where the CPU reaches it (memory: same; I/O: port or MMIO)
        public bool PortIo;       // an I/O BAR reached with port instructions (x86), not through an MMIO window

        public bool IsMemory { get { return Kind == PciBarKind.Mem32 || Kind == PciBarKind.Mem64; } }
        public bool IsImplemented { get { return Kind != PciBarKind.Unused && Kind != PciBarKind.Mem64Upper && Size != 0; } }

        // The size encoded by a read-back mask: its lowest set bit (Linux: pci_size).
        public static ulong SizeFromMask(ulong mask)
        {
            if (mask == 0) return 0;
            return mask & (~mask + 1);
        }

        // Decode and size every BAR of d (count: 6 for a normal function, 2 for a bridge).
        // Decoding is switched off while the BARs hold all-ones, so the function never
        // answers at a bogus address (Linux: pci_read_bases).
        public static PciBar[] ReadAll(PciDevice d, int count)
        {
            PciBar[] bars = new PciBar[count];
            ushort cmd = d.Read16(PciRegs.PCI_COMMAND);
            ushort decode = (ushort)(PciRegs.PCI_COMMAND_IO | PciRegs.PCI_COMMAND_MEMORY);
            if ((cmd & decode) != 0) d.Write16(PciRegs.PCI_COMMAND, (ushort)(cmd & ~decode));

            int i = 0;
            while (i < count)
            {
                PciBar bar = new PciBar();
                bar.Index = i;
                bars[i] = bar;
                i += ReadOne(d, bar, count);
                if (bar.Kind == PciBarKind.Mem64 && bar.Index + 1 < count)
                {
                    PciBar upper = new PciBar();
                    upper.Index = bar.Index + 1;
                    upper.Kind = PciBarKind.Mem64Upper;
                    bars[bar.Index + 1] = upper;
                }
            }

            if ((cmd & decode) != 0) d.Write16(PciRegs.PCI_COMMAND, cmd);
            return bars;
        }

        // Returns how many BAR slots this BAR used (2 for 64-bit).
        private static int ReadOne(PciDevice d, PciBar bar, int count)
        {
            uint pos = PciRegs.PCI_BASE_ADDRESS_0 + (uint)bar.Index * 4;
            uint orig = d.Read32(pos);
            d.Write32(pos, 0xFFFFFFFF);
            uint sz = d.Read32(pos);
            d.Write32(pos, orig);

            // All-ones means the function is not answering; an unimplemented BAR reads 0.
            if (sz == 0xFFFFFFFF) sz = 0;
            if (orig == 0xFFFFFFFF) orig = 0;

            if ((orig & PciRegs.PCI_BASE_ADDRESS_SPACE_IO) != 0 || (sz & PciRegs.PCI_BASE_ADDRESS_SPACE_IO) != 0)
            {
                // I/O BAR: bits 1:0 are flags. A 16-bit decoder reads 0 in the upper half.
                uint mask = sz & PciRegs.PCI_BASE_ADDRESS_IO_MASK;
                bar.Kind = mask == 0 ? PciBarKind.Unused : PciBarKind.Io;
                bar.Size = SizeFromMask(mask);
                bar.Address = orig & PciRegs.PCI_BASE_ADDRESS_IO_MASK;
                bar.CpuAddress = bar.Address;
                bar.PortIo = true;     // as firmware left it: a port number (re-assigning says otherwise)
                return 1;
            }

            bar.Prefetchable = (orig & PciRegs.PCI_BASE_ADDRESS_MEM_PREFETCH) != 0 || (sz & PciRegs.PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
            uint type = (sz | orig) & PciRegs.PCI_BASE_ADDRESS_MEM_TYPE_MASK;
            if (type == PciRegs.PCI_BASE_ADDRESS_MEM_TYPE_64 && bar.Index + 1 < count)
            {
                uint posHi = pos + 4;
                uint origHi = d.Read32(posHi);
                d.Write32(posHi, 0xFFFFFFFF);
                uint szHi = d.Read32(posHi);
                d.Write32(posHi, origHi);

                ulong mask64 = ((ulong)szHi << 32) | (sz & PciRegs.PCI_BASE_ADDRESS_MEM_MASK);
                bar.Kind = mask64 == 0 ? PciBarKind.Unused : PciBarKind.Mem64;
                bar.Size = SizeFromMask(mask64);
                bar.Address = ((ulong)origHi << 32) | (orig & PciRegs.PCI_BASE_ADDRESS_MEM_MASK);
                bar.CpuAddress = bar.Address;
                return 2;
            }

            uint mask32 = sz & PciRegs.PCI_BASE_ADDRESS_MEM_MASK;
            bar.Kind = mask32 == 0 ? PciBarKind.Unused : PciBarKind.Mem32;
            bar.Size = SizeFromMask(mask32);
            bar.Address = orig & PciRegs.PCI_BASE_ADDRESS_MEM_MASK;
            bar.CpuAddress = bar.Address;
            return 1;
        }

        // Program a new bus address into the BAR (both halves of a 64-bit BAR).
        public void Assign(PciDevice d, ulong busAddress, ulong cpuAddress)
        {
            uint pos = PciRegs.PCI_BASE_ADDRESS_0 + (uint)Index * 4;
            uint low = d.Read32(pos);
            uint flags = Kind == PciBarKind.Io ? (low & 0x3) : (low & 0xF);
            d.Write32(pos, (uint)busAddress | flags);
            if (Kind == PciBarKind.Mem64) d.Write32(pos + 4, (uint)(busAddress >> 32));
            Address = busAddress;
            CpuAddress = cpuAddress;
            PortIo = false;            // assigned from a host bridge window: reached through MMIO
        }

        public static ReadOnlySpan<byte> KindName(PciBarKind k)
        {
            switch (k)
            {
                case PciBarKind.Io: return "io"u8;
                case PciBarKind.Mem32: return "mem32"u8;
                case PciBarKind.Mem64: return "mem64"u8;
                case PciBarKind.Mem64Upper: return "mem64-upper"u8;
            }
            return "unused"u8;
        }

        public void Print()
        {
            Log.Write("BAR"u8);
            Log.Dec((ulong)Index);
            Log.Write(' ');
            Log.Write(KindName(Kind));
            if (Prefetchable) Log.Write(" pref"u8);
            Log.Write(' ');
            if (Address == 0 && Kind != PciBarKind.Io) Log.Write("unassigned"u8);
            else Log.Hex(Address);
            Log.Write(" size "u8);
            Log.Hex(Size);
        }
    }
}
