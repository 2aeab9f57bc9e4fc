using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The MADT ("APIC", ACPI 6.5 5.2.12): after the header, the local APIC address (u32) and
    // flags (u32), then variable-length entries { u8 type, u8 length, ... }. Used here:
    //   type 1, I/O APIC: u8 id, u8 reserved, u32 address, u32 global system interrupt base
    //   type 2, Interrupt Source Override: u8 bus (0 = ISA), u8 source (ISA IRQ), u32 GSI,
    //           u16 flags (polarity [1:0], trigger mode [3:2]: 0 = as the bus says, 1 = active
    //           high / edge, 3 = active low / level)
    // An ISA IRQ without an override is the GSI of the same number, edge, active high.
    // Linux: acpi_parse_madt_ioapic_entries.
    internal static unsafe class Madt
    {
        private const byte TypeIoApic = 1, TypeSourceOverride = 2;
        private static readonly uint[] isaGsi = new uint[16];
        private static readonly ushort[] isaFlags = new ushort[16];

        internal static void Parse(ulong rsdp)
        {
            for (uint irq = 0; irq < 16; irq++) isaGsi[irq] = irq;
            byte* madt = (byte*)Acpi.FindTable(rsdp, "APIC"u8);
            if (madt == null) { Log.Write("acpi: no MADT: no IOAPIC, wired interrupts off"u8); Log.Line(); return; }
            uint length = *(uint*)(madt + 4);
            for (uint at = 44; at + 2 <= length;)
            {
                byte type = madt[at], entryLength = madt[at + 1];
                if (entryLength < 2 || at + entryLength > length)
                {
                    Log.Write("acpi: MADT: an entry at +"u8); Log.Dec(at); Log.Write(" has a bad length: the rest is ignored"u8); Log.Line();
                    return;
                }
                byte* e = madt + at;
                if (type == TypeIoApic && entryLength >= 12) IoApic.Add(e[2], *(uint*)(e + 4), *(uint*)(e + 8));
                else if (type == TypeSourceOverride && entryLength >= 10 && e[2] == 0 && e[3] < 16)
                {
                    isaGsi[e[3]] = *(uint*)(e + 4);
                    isaFlags[e[3]] = *(ushort*)(e + 8);
                    if (!Log.Quiet)
                    {
                        Log.Write("acpi: MADT: ISA IRQ "u8); Log.Dec(e[3]); Log.Write(" -> GSI "u8); Log.Dec(isaGsi[e[3]]);
                        Log.Write(", "u8); Log.Write(TriggerName(isaFlags[e[3]])); Log.Write(", "u8); Log.Write(PolarityName(isaFlags[e[3]])); Log.Line();
                    }
                }
                at += entryLength;
            }
        }

        // An ISA IRQ's GSI and its override's flags (0: no override, or "conforms to the bus").
        internal static uint IsaGsi(uint irq, out ushort flags)
        {
            flags = isaFlags[irq];
            return isaGsi[irq];
        }

        internal static bool SaysLevel(ushort flags) => (flags >> 2 & 3) == 3;
        internal static bool SaysEdge(ushort flags) => (flags >> 2 & 3) == 1;
        internal static bool SaysActiveLow(ushort flags) => (flags & 3) == 3;
        internal static bool SaysActiveHigh(ushort flags) => (flags & 3) == 1;

        private static System.ReadOnlySpan<byte> TriggerName(ushort flags)
            => SaysLevel(flags) ? "level"u8 : SaysEdge(flags) ? "edge"u8 : "bus trigger"u8;

        private static System.ReadOnlySpan<byte> PolarityName(ushort flags)
            => SaysActiveLow(flags) ? "active low"u8 : SaysActiveHigh(flags) ? "active high"u8 : "bus polarity"u8;
    }
}
