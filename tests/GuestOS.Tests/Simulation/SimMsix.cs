using System.Collections.Generic;
using GuestOS.Hal.Hosted;

namespace GuestOS.Tests.Simulation
{
    // The MSI-X side of a simulated function (PCI Local Bus 3.0 §6.8.2): the capability's
    // message control (enable, function mask), a table of 16-byte entries and the Pending Bit
    // Array. A message for a masked entry (or while the function is masked) sets its pending
    // bit and is sent on unmask, as the spec requires. It records what the driver did, in
    // order, so tests can check the programming sequence, and flags unsafe programming.
    public sealed class SimMsix
    {
        public const ushort NoVector = 0xFFFF;
        public readonly SimPciFunction Function;
        public readonly int CapPos;
        public readonly int Size;
        public readonly byte[] Table;
        public readonly bool[] Pending;
        public readonly List<string> Events = new List<string>();       // "ctrl enable+maskall", "entry 1 msg", ...
        public readonly List<string> Violations = new List<string>();
        public long Sent, Dropped;

        public SimMsix(SimPciFunction function, int capPos, int size)
        {
            Function = function;
            CapPos = capPos;
            Size = size;
            Table = new byte[size * 16];
            Pending = new bool[size];
            for (int e = 0; e < size; e++) Table[e * 16 + 12] = 1;   // entries come up masked
        }

        public ushort Control => Function.R16(CapPos + 2);
        public bool Enabled => (Control & 0x8000) != 0;
        public bool FunctionMasked => (Control & 0x4000) != 0;
        public bool EntryMasked(int e) => (Table[e * 16 + 12] & 1) != 0;
        public ulong Address(int e) => System.BitConverter.ToUInt64(Table, e * 16);
        public uint Data(int e) => System.BitConverter.ToUInt32(Table, e * 16 + 8);

        // The device wants to interrupt through `vector` (a virtio queue or config vector).
        public void Notify(ushort vector)
        {
            if (!Enabled || vector == NoVector || vector >= Size) { Dropped++; return; }
            if (FunctionMasked || EntryMasked(vector)) { Pending[vector] = true; return; }
            Send(vector);
        }

        private void Send(int e)
        {
            Pending[e] = false;
            Sent++;
            InterruptController.Raise(Address(e), Data(e));
        }

        // PCI 3.0 §6.8.2: "For all accesses to MSI-X Table and MSI-X PBA fields, software must
        // use aligned full DWORD or aligned full QWORD transactions; otherwise, the result is
        // undefined."
        private static bool DwordOrQword(ulong offset, int width) => (width == 4 || width == 8) && offset % (ulong)width == 0;

        public ulong Read(ulong offset, int width)
        {
            if (!DwordOrQword(offset, width)) Violations.Add($"MSI-X {(offset >= 0x800 ? "PBA" : "table")} +0x{offset:x} read with width {width} (must be an aligned DWORD or QWORD)");
            if (offset >= 0x800)                                   // PBA
            {
                ulong bits = 0;
                for (int e = 0; e < Size && e < 64; e++) if (Pending[e]) bits |= 1UL << e;
                return bits >> (int)((offset - 0x800) * 8);
            }
            ulong v = 0;
            for (int i = 0; i < width && (int)offset + i < Table.Length; i++) v |= (ulong)Table[(int)offset + i] << (8 * i);
            return v;
        }

        public void Write(ulong offset, int width, ulong value)
        {
            if (offset >= (ulong)Table.Length) { Violations.Add($"write to MSI-X PBA/unused +0x{offset:x}"); return; }
            int e = (int)offset / 16, field = (int)offset % 16;
            if (!DwordOrQword(offset, width)) Violations.Add($"MSI-X entry {e} +{field} written with width {width} (must be an aligned DWORD or QWORD)");
            // §6.8.2.9: address or data changed while the entry is unmasked: undefined.
            if (field < 12 && Enabled && !FunctionMasked && !EntryMasked(e))
                Violations.Add($"MSI-X entry {e} message written while the entry can fire");
            for (int i = 0; i < width && (int)offset + i < Table.Length; i++) Table[(int)offset + i] = (byte)(value >> (8 * i));
            if (field <= 8 && field + width > 8) Events.Add($"entry {e} msg");
            if (field <= 12 && field + width > 12)
            {
                Events.Add($"entry {e} {(EntryMasked(e) ? "mask" : "unmask")}");
                if (!EntryMasked(e) && Enabled && !FunctionMasked && Pending[e]) Send(e);
            }
        }

        // Message control changed in configuration space.
        public void ControlWritten()
        {
            Events.Add($"ctrl{(Enabled ? " enable" : "")}{(FunctionMasked ? " maskall" : "")}");
            if (!Enabled || FunctionMasked) return;
            for (int e = 0; e < Size; e++) if (Pending[e] && !EntryMasked(e)) Send(e);
        }
    }
}
