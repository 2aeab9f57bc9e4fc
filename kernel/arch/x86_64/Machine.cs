using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The x86_64 machine: privileged instructions (boot/x86_64/cpu.S) and how to stop.
    public static class Machine
    {
        public static ReadOnlySpan<byte> Name => "x86_64"u8;

        // boot/x86_64/entry.S identity-maps the first GiB; RAM above it is not used.
        internal const ulong BootMapEnd = 1UL << 30;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_pause")] private static extern void Pause();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_halt")] internal static extern void HaltOnce();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_disable_interrupts")] internal static extern void DisableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_enable_interrupts")] internal static extern void EnableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_read_cr2")] internal static extern ulong ReadCr2();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_read_cr3")] internal static extern ulong ReadCr3();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_invlpg")] internal static extern void InvalidatePage(ulong va);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_rdtsc")] internal static extern ulong Rdtsc();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_ud2")] internal static extern void UndefinedInstruction();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_rdmsr")] internal static extern ulong ReadMsr(uint msr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_wrmsr")] internal static extern void WriteMsr(uint msr, ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_cpuid")] internal static extern unsafe void Cpuid(uint leaf, uint subleaf, uint* registers);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_wait_for_interrupt_disabled")] internal static extern void WaitForInterruptDisabled();

        public static void Relax() => Pause();

        // Before the heap exists: COM1's data port, unconfigured (QEMU needs no set-up).
        internal static void EarlyConsolePut(byte b) => Io.outb(0x3F8, b);

        // x86 has alignment checking only in ring 3 (CR0.AM + RFLAGS.AC): not a kernel test.
        internal static void UnalignedLoadWithAlignmentCheck(ulong address)
            => Panic.Halt("test fault-unaligned is an arm64 test (x86 checks alignment only in user mode)"u8);

        // isa-debug-exit (-device isa-debug-exit,iobase=0xf4,iosize=0x04): QEMU exits with
        // status (value << 1) | 1. If the device is missing we are still running: say so.
        public static void Exit(Kernel.ExitCode code)
        {
            Io.outl(0xF4, (uint)code);
            Log.Write("exit: no isa-debug-exit device at port 0xf4; halting"u8);
            Log.Line();
            DisableInterrupts();
            while (true) HaltOnce();
        }
    }
}
