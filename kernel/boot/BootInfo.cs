using System;

namespace GuestOS.Kernel.Boot
{
    // What the boot protocol told us, in one architecture-neutral shape. A ref struct: it lives
    // on the entry stack and is passed by reference, so it can hold a u8 literal.
    public unsafe ref struct BootInfo
    {
        public ulong RamStart;        // the usable RAM region the kernel allocates from
        public ulong RamEnd;
        public ulong RamTotal;        // all RAM the firmware reports, 0 if it does not say
        public byte* CommandLine;     // NUL-terminated, or null
        public ulong AcpiRsdp;        // x86: physical address of the RSDP, 0 if not given
        public ulong DeviceTree;      // arm64: physical address of the flattened device tree
        public ReadOnlySpan<byte> Protocol;   // "multiboot", "pvh" or "devicetree"
    }
}
