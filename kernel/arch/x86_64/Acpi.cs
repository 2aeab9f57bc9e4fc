using System;
using GuestOS.Hal;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel.Arch
{
    // Just enough ACPI to find PCIe's ECAM window: RSDP -> XSDT (or RSDT) -> MCFG (ACPI 6.5
    // section 5.2; MCFG from the PCI Firmware Specification 3.3, section 4.1.2).
    internal static unsafe class Acpi
    {
        internal static ulong Rsdp;     // from the boot protocol (Entry), 0 if none

        // The RSDP is the 16-byte-aligned signature "RSD PTR " in the first KiB of the EBDA or
        // in the BIOS area 0xE0000-0xFFFFF (ACPI 6.5, 5.2.5.1). The EBDA's segment is stored at
        // 0x40E, inside page 0, which this kernel leaves unmapped so that null dereferences
        // fault; SeaBIOS puts the RSDP in the BIOS area, so that is what we scan.
        internal static ulong FindRsdpInBios()
        {
            for (ulong p = 0xE0000; p < 0x100000; p += 16)
                if (Signature((byte*)p, "RSD PTR "u8) && Checksum((byte*)p, 20)) return p;
            return 0;
        }

        // A table by its 4-letter signature, or 0. Firmware puts its tables at the top of low
        // RAM, which can lie above what the boot map covers (SeaBIOS: just below 2 GiB on a
        // 2 GiB q35 guest): each table is mapped before it is read (Linux: acpi_os_map_memory).
        internal static ulong FindTable(ulong rsdp, ReadOnlySpan<byte> signature)
        {
            if (rsdp == 0 || PageTables.MapFirmware(rsdp, 36) == 0) return 0;   // ACPI 2.0+ RSDP: 36 bytes
            byte* r = (byte*)rsdp;
            bool xsdt = r[15] >= 2 && *(ulong*)(r + 24) != 0;     // revision 2+: 64-bit XSDT
            byte* root = Map(xsdt ? *(ulong*)(r + 24) : *(uint*)(r + 16));
            if (root == null) return 0;
            int entrySize = xsdt ? 8 : 4;
            uint count = (*(uint*)(root + 4) - 36) / (uint)entrySize;
            for (uint i = 0; i < count; i++)
            {
                byte* at = root + 36 + i * entrySize;
                byte* table = Map(xsdt ? *(ulong*)at : *(uint*)at);
                if (table != null && Signature(table, signature)) return (ulong)table;
            }
            return 0;
        }

        // Map a table's header, then the length it gives, and check its checksum; null (said
        // on the console) when it cannot be mapped or is corrupt.
        private static byte* Map(ulong phys)
        {
            const uint HeaderSize = 36;            // ACPI 6.5, 5.2.6: the common table header
            const uint MaxLength = 1u << 20;       // QEMU's largest table (DSDT) is a few KiB
            if (phys == 0) return null;
            if (PageTables.MapFirmware(phys, HeaderSize) == 0) return Skipped(phys, "cannot be mapped"u8);
            uint length = *(uint*)(phys + 4);
            if (length < HeaderSize || length > MaxLength) return Skipped(phys, "has an impossible length"u8);
            if (PageTables.MapFirmware(phys, length) == 0) return Skipped(phys, "cannot be mapped"u8);
            if (!Checksum((byte*)phys, length)) return Skipped(phys, "has a bad checksum"u8);
            return (byte*)phys;
        }

        private static byte* Skipped(ulong phys, ReadOnlySpan<byte> why)
        {
            Log.Write("acpi: the table at "u8); Log.Hex(phys); Log.Write(" "u8); Log.Write(why); Log.Write(": skipped"u8);
            Log.Line();
            return null;
        }

        // The DSDT, from the FADT ("FACP"): X_DSDT (offset 140, 64-bit) when the table is long
        // enough and it is set, else DSDT (offset 40, 32-bit) (ACPI 6.5 5.2.9). Null if none.
        internal static byte* FindDsdt(ulong rsdp)
        {
            byte* fadt = (byte*)FindTable(rsdp, "FACP"u8);
            if (fadt == null) return null;
            uint length = *(uint*)(fadt + 4);
            ulong dsdt = length >= 148 ? *(ulong*)(fadt + 140) : 0;
            if (dsdt == 0 && length >= 44) dsdt = *(uint*)(fadt + 40);
            byte* table = Map(dsdt);
            return table != null && Signature(table, "DSDT"u8) ? table : null;
        }

        // The first MCFG allocation: { u64 base (of bus 0), u16 segment, u8 start bus, u8 end bus }.
        internal static bool FindEcam(ulong rsdp, out ulong baseOfBus0, out uint startBus, out uint endBus)
        {
            baseOfBus0 = 0; startBus = 0; endBus = 0;
            byte* mcfg = (byte*)FindTable(rsdp, "MCFG"u8);
            if (mcfg == null || *(uint*)(mcfg + 4) < 44 + 16) return false;
            baseOfBus0 = *(ulong*)(mcfg + 44);
            startBus = mcfg[44 + 10];
            endBus = mcfg[44 + 11];
            return true;
        }

        private static bool Signature(byte* p, ReadOnlySpan<byte> s)
        {
            for (int i = 0; i < s.Length; i++) if (p[i] != s[i]) return false;
            return true;
        }

        private static bool Checksum(byte* p, uint length)
        {
            byte sum = 0;
            for (uint i = 0; i < length; i++) sum += p[i];
            return sum == 0;
        }
    }
}
