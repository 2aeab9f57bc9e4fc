using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // Wakes a CPU sleeping in Irq.WaitLocalDisabled(deadline) when no device does: the generic
    // timer's virtual timer (ARM ARM D11.2: it asserts its PPI while CNTVCT_EL0 >= CNTV_CVAL_EL0
    // and CNTV_CTL_EL0.ENABLE is set). The PPI is the third entry of the "arm,armv8-timer"
    // node's interrupts (secure, non-secure physical, virtual, hypervisor), as Linux's
    // arch_timer reads it.
    internal static unsafe class WakeupTimer
    {
        private const ulong Enable = 1;
        private const int VirtualTimerEntry = 2, GicInterruptCells = 3;
        private static bool ready;

        internal static void Init()
        {
            DtNode timer = DeviceTree.FindCompatible("arm,armv8-timer"u8, 0);
            int entryBytes = GicInterruptCells * 4;
            if (!DeviceTree.GetProperty(timer, "interrupts"u8, out byte* interrupts, out int length) || length < (VirtualTimerEntry + 1) * entryBytes)
            {
                Log.Write("timer: no arm,armv8-timer interrupts in the device tree: waits for interrupts poll"u8); Log.Line();
                return;
            }
            // <type number flags>, type 1 = PPI, whose INTID is 16 + number.
            uint intid = 16 + DeviceTree.Be32(interrupts + VirtualTimerEntry * entryBytes + 4);
            ready = Interrupts.AttachPpi(intid, new Expired());
        }

        // False when there is no timer to wake the CPU.
        internal static bool Arm(ulong deadlineNs)
        {
            if (!ready) return false;
            Machine.WriteVirtualTimerCompare(Timer.CounterAt(deadlineNs));
            Machine.WriteVirtualTimerControl(Enable);
            return true;
        }

        internal static void Disarm()
        {
            if (ready) Machine.WriteVirtualTimerControl(0);
        }

        // The timer's output is a level that stays asserted until the timer is disabled.
        private sealed class Expired : InterruptHandler
        {
            public override void Handle() => Machine.WriteVirtualTimerControl(0);
        }
    }
}
