// Interrupt and exception entry. One stub per vector (0-255) pushes an error code where the
// CPU does not, then the vector, and jumps to a common path that saves every general
// register and the whole SSE state (fxsave: compiled C# uses xmm registers), calls the C#
// dispatcher x86_interrupt(InterruptFrame*), restores and returns with iretq.

        .text
// Vectors whose exceptions push an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13,
// #PF 14, #AC 17, #CP 21, #VC 29, #SX 30.
.macro STUB vector
        .balign 16
isr_stub_\vector:
.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
.else
        pushq   $0
.endif
        pushq   $\vector
        jmp     isr_common
.endm

// Every stub is under 16 bytes and 16-byte aligned, so stub i is at isr_stubs + 16 * i
// (the C# IDT builder relies on this; the x86 fault tests would catch a wrong vector).
        .altmacro
        .globl isr_stubs
        .balign 16
isr_stubs:
.set vec, 0
.rept 256
        STUB %vec
.set vec, vec + 1
.endr


isr_common:
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rbp
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, %rbx              // rbx = InterruptFrame*, callee-saved
        sub     $512, %rsp
        and     $~15, %rsp              // fxsave needs 16-byte alignment (also the ABI's)
        fxsave  (%rsp)
        mov     %rbx, %rdi
        cld
        call    x86_interrupt
        fxrstor (%rsp)
        mov     %rbx, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rbp
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
        add     $16, %rsp               // vector and error code
        iretq

