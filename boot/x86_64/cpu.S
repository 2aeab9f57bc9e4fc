// Privileged instructions C# cannot express, each a tiny leaf function (SysV ABI).
        .text
.macro FUNC name
        .globl \name
        .type \name, @function
        .balign 16
\name:
.endm

FUNC cpu_halt                   // hlt until the next interrupt
        hlt
        ret
// The race-free wait, entered and left with interrupts disabled: sti delays interrupts by
// one instruction, so a pending interrupt is taken only once hlt has started, and wakes it.
FUNC cpu_wait_for_interrupt_disabled
        sti
        hlt
        cli
        ret
FUNC cpu_disable_interrupts
        cli
        ret
FUNC cpu_enable_interrupts
        sti
        ret
FUNC cpu_pause
        pause
        ret
FUNC cpu_read_cr2
        mov     %cr2, %rax
        ret
FUNC cpu_read_cr3
        mov     %cr3, %rax
        ret
FUNC cpu_write_cr3
        mov     %rdi, %cr3
        ret
FUNC cpu_invlpg
        invlpg  (%rdi)
        ret
FUNC cpu_rdtsc
        rdtsc
        shl     $32, %rdx
        or      %rdx, %rax
        ret
FUNC cpu_rdmsr                  // rdi = msr
        mov     %edi, %ecx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        ret
FUNC cpu_wrmsr                  // rdi = msr, rsi = value
        mov     %edi, %ecx
        mov     %esi, %eax
        mov     %rsi, %rdx
        shr     $32, %rdx
        wrmsr
        ret
FUNC cpu_cpuid                  // rdi = leaf, rsi = subleaf, rdx = uint[4] out
        push    %rbx
        mov     %rdx, %r8
        mov     %edi, %eax
        mov     %esi, %ecx
        cpuid
        mov     %eax, 0(%r8)
        mov     %ebx, 4(%r8)
        mov     %ecx, 8(%r8)
        mov     %edx, 12(%r8)
        pop     %rbx
        ret
FUNC cpu_lidt                   // rdi = pointer to {u16 limit, u64 base}
        lidt    (%rdi)
        ret
FUNC cpu_ud2                    // a deliberate undefined instruction (fault tests)
        ud2
        ret
