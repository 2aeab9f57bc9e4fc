using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The arm64 machine: privileged instructions (boot/aarch64/cpu.S) and how to stop.
    public static class Machine
    {
        public static ReadOnlySpan<byte> Name => "aarch64"u8;

        // boot/aarch64/entry.S maps the 1 GiB block holding the kernel as Normal memory.
        internal const ulong BootMapSize = 1UL << 30;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_yield")] private static extern void Yield();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_wfi")] internal static extern void WaitForInterrupt();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_irq_disable")] internal static extern void DisableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_irq_enable")] internal static extern void EnableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_wait_for_interrupt_disabled")] internal static extern void WaitForInterruptDisabled();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_read_cntvct")] internal static extern ulong ReadCounter();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_read_cntfrq")] internal static extern ulong ReadCounterFrequency();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_write_cntv_cval")] internal static extern void WriteVirtualTimerCompare(ulong counter);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_write_cntv_ctl")] internal static extern void WriteVirtualTimerControl(ulong control);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_read_ttbr0")] internal static extern ulong ReadTtbr0();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_sync_page_tables")] internal static extern void SyncPageTables();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_undefined_instruction")] internal static extern void UndefinedInstruction();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_unaligned_load_with_check")] private static extern uint UnalignedLoad(ulong address);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "semihosting_exit")] private static extern void SemihostingExit(ulong status);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "psci_system_off")] internal static extern void PsciSystemOff();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "sym_semihosting_hlt")] internal static extern ulong SemihostingHltAddress();

        public static void Relax() => Yield();

        // The UART's address comes from the device tree, after the heap: nothing to write to.
        internal static void EarlyConsolePut(byte b) { }

        internal static void UnalignedLoadWithAlignmentCheck(ulong address) => UnalignedLoad(address);

        // Semihosting SYS_EXIT with the same status encoding isa-debug-exit produces on x86,
        // (code << 1) | 1, so the runner decodes both architectures alike. Without
        // -semihosting the exception handler falls back to PSCI SYSTEM_OFF (status 0).
        public static void Exit(Kernel.ExitCode code)
        {
            SemihostingExit(((ulong)code << 1) | 1);
            DisableInterrupts();
            while (true) WaitForInterrupt();
        }
    }
}
