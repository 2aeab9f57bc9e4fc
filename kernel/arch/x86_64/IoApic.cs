using System;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The I/O APICs the MADT lists (Intel 82093AA datasheet; ACPI 6.5 5.2.12.3): each takes
    // the wired lines GSI base .. base + pins - 1 and turns one into a message to a local APIC
    // through its redirection entry. Two registers are mapped: IOREGSEL (+0x00) selects a
    // register, IOWIN (+0x10) reads or writes it. Every entry starts masked; a line is unmasked
    // when a handler is attached. A level line stays "remote IRR" busy until the local APIC's
    // EOI, which QEMU's local APIC broadcasts to the IOAPIC (ioapic_eoi_broadcast): the handler
    // must have quietened the device by then, or the line fires again at once.
    internal static class IoApic
    {
        private const uint IOREGSEL = 0x00, IOWIN = 0x10;
        private const uint IOAPICVER = 0x01, IOREDTBL = 0x10;
        private const uint Masked = 1u << 16, LevelTriggered = 1u << 15, ActiveLow = 1u << 13;
        private const int MaxIoApics = 8;

        private static readonly ulong[] regs = new ulong[MaxIoApics];
        private static readonly uint[] gsiBase = new uint[MaxIoApics], pins = new uint[MaxIoApics];
        private static int count;

        internal static bool Present => count > 0;

        internal static void Add(uint id, ulong phys, uint firstGsi)
        {
            if (count == MaxIoApics) { Log.Write("acpi: MADT: more than 8 IOAPICs: the rest ignored"u8); Log.Line(); return; }
            ulong mapped = Io.ioremap(phys, 0x20);
            if (mapped == 0) { Log.Write("acpi: MADT: the IOAPIC at "u8); Log.Hex(phys); Log.Write(" cannot be mapped: ignored"u8); Log.Line(); return; }
            int n = count++;
            regs[n] = mapped;
            gsiBase[n] = firstGsi;
            pins[n] = ((Read(n, IOAPICVER) >> 16) & 0xFF) + 1;      // maximum redirection entry + 1
            for (uint pin = 0; pin < pins[n]; pin++) Write(n, IOREDTBL + 2 * pin, Masked);   // Linux: clear_IO_APIC
            if (!Log.Quiet)
            {
                Log.Write("acpi: MADT: IOAPIC id "u8); Log.Dec(id); Log.Write(" at "u8); Log.Hex(phys);
                Log.Write(", GSIs "u8); Log.Dec(firstGsi); Log.Write("-"u8); Log.Dec(firstGsi + pins[n] - 1); Log.Line();
            }
        }

        // Which IOAPIC and pin carry the GSI.
        private static bool Find(uint gsi, out int n, out uint pin)
        {
            for (n = 0; n < count; n++)
                if (gsi >= gsiBase[n] && gsi - gsiBase[n] < pins[n]) { pin = gsi - gsiBase[n]; return true; }
            pin = 0;
            return false;
        }

        internal static bool Has(uint gsi) => Find(gsi, out _, out _);

        // Fixed delivery, physical destination `apicId`, the trigger and polarity given, unmasked.
        // The high half (destination) first, so the entry is complete when the mask clears.
        internal static bool Route(uint gsi, uint vector, bool level, bool activeLow, uint apicId)
        {
            if (!Find(gsi, out int n, out uint pin)) return false;
            Write(n, IOREDTBL + 2 * pin + 1, apicId << 24);
            Write(n, IOREDTBL + 2 * pin, vector | (level ? LevelTriggered : 0) | (activeLow ? ActiveLow : 0));
            return true;
        }

        internal static bool IsLevel(uint gsi)
            => Find(gsi, out int n, out uint pin) && (Read(n, IOREDTBL + 2 * pin) & LevelTriggered) != 0;

        internal static bool IsActiveLow(uint gsi)
            => Find(gsi, out int n, out uint pin) && (Read(n, IOREDTBL + 2 * pin) & ActiveLow) != 0;

        private static uint Read(int n, uint register)
        {
            Io.iowrite32(regs[n] + IOREGSEL, register);
            return Io.ioread32(regs[n] + IOWIN);
        }

        private static void Write(int n, uint register, uint value)
        {
            Io.iowrite32(regs[n] + IOREGSEL, register);
            Io.iowrite32(regs[n] + IOWIN, value);
        }
    }
}
