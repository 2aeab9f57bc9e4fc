using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The local APIC (Intel SDM vol. 3, chapter 11): where MSIs and IPIs arrive and where each
    // interrupt is acknowledged (EOI). x2APIC (registers as MSRs 0x800 + offset/16) when the
    // CPU has it, else xAPIC (memory-mapped at IA32_APIC_BASE, 0xFEE00000 on QEMU).
    internal static unsafe class LocalApic
    {
        private const uint IA32_APIC_BASE = 0x1B;
        private const ulong ApicGlobalEnable = 1 << 11, X2ApicEnable = 1 << 10;
        private const uint ID = 0x20, EOI = 0xB0, SVR = 0xF0, ICR_LOW = 0x300, ICR_HIGH = 0x310;
        private const uint LVT_TIMER = 0x320, TIMER_INITIAL_COUNT = 0x380, TIMER_CURRENT_COUNT = 0x390, TIMER_DIVIDE = 0x3E0;
        private const uint TimerDivideBy16 = 0x3;
        internal const uint LvtMasked = 1 << 16;
        internal const uint SpuriousVector = 0xFF;

        private static ulong mmio;                  // xAPIC registers, 0 in x2APIC mode
        internal static bool X2Apic;
        internal static uint Id;

        internal static void Init()
        {
            uint* regs = stackalloc uint[4];
            Machine.Cpuid(1, 0, regs);
            bool hasX2Apic = (regs[2] & (1u << 21)) != 0;
            ulong baseMsr = Machine.ReadMsr(IA32_APIC_BASE);
            if (hasX2Apic)
            {
                Machine.WriteMsr(IA32_APIC_BASE, baseMsr | ApicGlobalEnable | X2ApicEnable);
                X2Apic = true;
            }
            else
            {
                mmio = Io.ioremap(baseMsr & 0xFFFFF000, 0x1000);
                if (mmio == 0) Panic.Halt("local APIC: cannot map its registers"u8);
            }
            Write(SVR, 0x100 | SpuriousVector);    // bit 8: APIC software enable
            Id = X2Apic ? Read(ID) : Read(ID) >> 24;
            if (Log.Quiet) return;
            Log.Write("apic: "u8); Log.Write(X2Apic ? "x2APIC"u8 : "xAPIC"u8); Log.Write(" id "u8); Log.Dec(Id);
            if (!X2Apic) { Log.Write(" at "u8); Log.Hex(baseMsr & 0xFFFFF000); }
            Log.Line();
        }

        internal static void EndOfInterrupt() => Write(EOI, 0);

        // A fixed, edge-triggered interrupt to this CPU (the self-test proves the IDT path).
        internal static void SendSelf(uint vector)
        {
            if (X2Apic) Machine.WriteMsr(0x800 + (ICR_LOW >> 4), ((ulong)Id << 32) | vector);
            else { Write(ICR_HIGH, Id << 24); Write(ICR_LOW, vector); }
        }

        // The timer in one-shot mode (SDM 11.5.4): once started it counts down at the bus clock
        // / 16 and, unless `lvt` has LvtMasked, raises the vector in `lvt` on reaching 0.
        internal static void ConfigureTimer(uint lvt)
        {
            Write(TIMER_DIVIDE, TimerDivideBy16);
            Write(LVT_TIMER, lvt);
        }

        internal static void StartTimer(uint count) => Write(TIMER_INITIAL_COUNT, count);
        internal static void StopTimer() => Write(TIMER_INITIAL_COUNT, 0);   // a count of 0 stops it

        internal static uint TimerCount => Read(TIMER_CURRENT_COUNT);

        // MSI address for this CPU (SDM 11.11.1): 0xFEE00000 | destination APIC id << 12.
        internal static ulong MsiAddress => 0xFEE00000UL | ((ulong)(Id & 0xFF) << 12);

        private static uint Read(uint offset) => X2Apic ? (uint)Machine.ReadMsr(0x800 + (offset >> 4)) : Io.ioread32(mmio + offset);

        private static void Write(uint offset, uint value)
        {
            if (X2Apic) Machine.WriteMsr(0x800 + (offset >> 4), value);
            else Io.iowrite32(mmio + offset, value);
        }
    }
}
