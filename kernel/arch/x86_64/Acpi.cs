namespace GuestOS.Kernel.Arch
{
    // Finding ACPI's root pointer on a PC (ACPI 6.5, section 5.2.5.1): the 16-byte-aligned
    // signature "RSD PTR " in the first KiB of the EBDA or in the BIOS area 0xE0000-0xFFFFF.
    // The EBDA's segment is stored at 0x40E, inside page 0, which this kernel leaves unmapped
    // so that null dereferences fault; SeaBIOS puts the RSDP in the BIOS area, so scan that.
    internal static unsafe class Acpi
    {
        internal static ulong FindRsdpInBios() => Scan(0xE0000, 0x100000);

        private static ulong Scan(ulong start, ulong end)
        {
            for (ulong p = start; p < end; p += 16)
            {
                byte* s = (byte*)p;
                if (s[0] == 'R' && s[1] == 'S' && s[2] == 'D' && s[3] == ' ' &&
                    s[4] == 'P' && s[5] == 'T' && s[6] == 'R' && s[7] == ' ')
                {
                    byte sum = 0;
                    for (int i = 0; i < 20; i++) sum += s[i];
                    if (sum == 0) return p;
                }
            }
            return 0;
        }
    }
}
