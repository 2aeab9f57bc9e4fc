using GuestOS.Drivers;
using GuestOS.Kernel.Arch;

namespace GuestOS.Hal
{
    // HAL contract: when each boot phase ended (Linux: initcall_debug's "initcall X returned 0
    // after N usecs"). Timestamps are raw counter ticks, because the x86 TSC is calibrated only
    // in the Clock phase; they become microseconds when printed. Each phase also counts the
    // register accesses made in it (Io.Accesses): under TCG every one is a trip into QEMU.
    public static class BootPhases
    {
        private static ulong[] _ticks, _accesses;   // at the end of each phase; _ticks 0: not reached

        // The first mark of a phase counts; a device re-initialised later is not the boot.
        // The first call must come after the heap exists (BootPhase.Memory).
        public static void Mark(BootPhase phase)
        {
            if (_ticks == null) { _ticks = new ulong[(int)BootPhase.Count]; _accesses = new ulong[(int)BootPhase.Count]; }
            if (_ticks[(int)phase] != 0) return;
            ulong now = Timer.Ticks();
            _ticks[(int)phase] = now == 0 ? 1 : now;
            _accesses[(int)phase] = Io.Accesses;
        }

        // "BENCH-BOOT phase=pci us=812 accesses=430" for each phase reached, timed from the end of
        // the phase before it (kernel entry for the first). Phases not reached are left out.
        public static void Print()
        {
            if (_ticks == null) return;
            ulong previousTicks = 0, previousAccesses = 0;
            for (int p = 0; p < (int)BootPhase.Count; p++)
            {
                if (_ticks[p] == 0) continue;
                Log.Write("BENCH-BOOT phase="u8); Log.Write(Name((BootPhase)p));
                Log.Write(" us="u8); Log.Dec((Timer.TicksToNs(_ticks[p]) - Timer.TicksToNs(previousTicks)) / 1000);
                Log.Write(" accesses="u8); Log.Dec(_accesses[p] - previousAccesses);
                Log.Line();
                previousTicks = _ticks[p];
                previousAccesses = _accesses[p];
            }
        }

        // "BENCH-BOOT-AGAIN phase=pci us=N accesses=A": a phase run once more later in the same
        // boot, from (ticks, accesses) as Timer.Ticks() and Io.Accesses read before it. Its code
        // is translated by then, so beside the first run it separates TCG's first-execution
        // translation from what the phase costs every time.
        public static void PrintAgain(BootPhase phase, ulong sinceTicks, ulong sinceAccesses)
        {
            ulong ns = Timer.TicksToNs(Timer.Ticks()) - Timer.TicksToNs(sinceTicks), accesses = Io.Accesses - sinceAccesses;
            Log.Write("BENCH-BOOT-AGAIN phase="u8); Log.Write(Name(phase));
            Log.Write(" us="u8); Log.Dec(ns / 1000);
            Log.Write(" accesses="u8); Log.Dec(accesses);
            Log.Line();
        }

        private static System.ReadOnlySpan<byte> Name(BootPhase p) => p switch
        {
            BootPhase.Memory => "memory"u8,
            BootPhase.Banner => "banner"u8,
            BootPhase.Clock => "clock"u8,
            BootPhase.Interrupts => "interrupts"u8,
            BootPhase.Firmware => "firmware"u8,
            BootPhase.Pci => "pci"u8,
            BootPhase.Transport => "transport"u8,
            _ => "bring-up"u8,
        };
    }
}
