using System.Runtime;
using System.Runtime.CompilerServices;
using GuestOS.Hal;

namespace GuestOS.Kernel.Arch
{
    // The register state boot/x86_64/interrupts.S saved, in memory order (lowest address first).
    public struct InterruptFrame
    {
        public ulong R15, R14, R13, R12, R11, R10, R9, R8, Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
        public ulong Vector, ErrorCode;
        public ulong Rip, Cs, Rflags, Rsp, Ss;    // pushed by the CPU
    }

    // The interrupt descriptor table: 256 interrupt gates to the assembly stubs
    // (Intel SDM vol. 3, section 6.14.1). Vectors 0-31 are exceptions; 32-255 are devices.
    internal static unsafe class Idt
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "cpu_lidt")]
        private static extern void lidt(void* descriptor);

        private struct Gate
        {
            public ushort OffsetLow, Selector;
            public byte Ist, TypeAttributes;
            public ushort OffsetMiddle;
            public uint OffsetHigh, Reserved;
        }

        private static Gate* table;

        internal static void Install()
        {
            table = (Gate*)Memory.PageAllocator.Allocate(1);
            if (table == null) Panic.Halt("no memory for the IDT"u8);
            ulong stubs = Symbols.IsrStubs;
            for (int vector = 0; vector < 256; vector++)
            {
                ulong handler = stubs + (ulong)vector * 16;   // stubs are 16 bytes apart
                Gate* g = table + vector;
                g->OffsetLow = (ushort)handler;
                g->Selector = 0x08;                            // the 64-bit code segment
                g->Ist = 0;
                g->TypeAttributes = 0x8E;                      // present, DPL 0, interrupt gate
                g->OffsetMiddle = (ushort)(handler >> 16);
                g->OffsetHigh = (uint)(handler >> 32);
                g->Reserved = 0;
            }
            byte* descriptor = stackalloc byte[10];
            *(ushort*)descriptor = 256 * 16 - 1;
            *(ulong*)(descriptor + 2) = (ulong)table;
            lidt(descriptor);
        }

        [RuntimeExport("x86_interrupt")]
        private static void Dispatch(InterruptFrame* frame)
        {
            if (frame->Vector < 32)
                Faults.Report(frame);
            else
                Interrupts.Handle((uint)frame->Vector);
        }
    }
}
