// The exception vector table (ARM ARM D1.10.2): 16 entries of 128 bytes, 2 KiB aligned.
// Each entry reserves an ExceptionFrame, saves x0/x1, and passes its index (0-15: current EL
// with SP0 / SPx, lower EL AArch64 / AArch32, each sync, IRQ, FIQ, SError) to a common path
// that saves every general register, ELR/SPSR/ESR/FAR and the whole FP/SIMD state, calls the
// C# dispatcher arm64_exception(ExceptionFrame*), then restores and returns with eret.

#define FRAME_SIZE 816      /* x0-x30, kind, elr, spsr, esr, far, q0-q31, fpsr, fpcr */

        .section .boot.vectors, "ax"
        .balign 2048
        .globl exception_vectors
exception_vectors:
.irp kind, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        .balign 128
        sub     sp, sp, #FRAME_SIZE
        stp     x0, x1, [sp, #0]
        mov     x0, #\kind
        b       exception_common
.endr

        .text
exception_common:
        stp     x2, x3, [sp, #16]
        stp     x4, x5, [sp, #32]
        stp     x6, x7, [sp, #48]
        stp     x8, x9, [sp, #64]
        stp     x10, x11, [sp, #80]
        stp     x12, x13, [sp, #96]
        stp     x14, x15, [sp, #112]
        stp     x16, x17, [sp, #128]
        stp     x18, x19, [sp, #144]
        stp     x20, x21, [sp, #160]
        stp     x22, x23, [sp, #176]
        stp     x24, x25, [sp, #192]
        stp     x26, x27, [sp, #208]
        stp     x28, x29, [sp, #224]
        stp     x30, x0, [sp, #240]     // x30 and the vector kind
        mrs     x2, elr_el1
        mrs     x3, spsr_el1
        stp     x2, x3, [sp, #256]
        mrs     x2, esr_el1
        mrs     x3, far_el1
        stp     x2, x3, [sp, #272]
        stp     q0, q1, [sp, #288]
        stp     q2, q3, [sp, #320]
        stp     q4, q5, [sp, #352]
        stp     q6, q7, [sp, #384]
        stp     q8, q9, [sp, #416]
        stp     q10, q11, [sp, #448]
        stp     q12, q13, [sp, #480]
        stp     q14, q15, [sp, #512]
        stp     q16, q17, [sp, #544]
        stp     q18, q19, [sp, #576]
        stp     q20, q21, [sp, #608]
        stp     q22, q23, [sp, #640]
        stp     q24, q25, [sp, #672]
        stp     q26, q27, [sp, #704]
        stp     q28, q29, [sp, #736]
        stp     q30, q31, [sp, #768]
        mrs     x2, fpsr
        mrs     x3, fpcr
        add     x1, sp, #800            // beyond stp's immediate range
        stp     x2, x3, [x1]

        mov     x0, sp
        bl      arm64_exception

        add     x1, sp, #800
        ldp     x2, x3, [x1]
        msr     fpsr, x2
        msr     fpcr, x3
        ldp     q0, q1, [sp, #288]
        ldp     q2, q3, [sp, #320]
        ldp     q4, q5, [sp, #352]
        ldp     q6, q7, [sp, #384]
        ldp     q8, q9, [sp, #416]
        ldp     q10, q11, [sp, #448]
        ldp     q12, q13, [sp, #480]
        ldp     q14, q15, [sp, #512]
        ldp     q16, q17, [sp, #544]
        ldp     q18, q19, [sp, #576]
        ldp     q20, q21, [sp, #608]
        ldp     q22, q23, [sp, #640]
        ldp     q24, q25, [sp, #672]
        ldp     q26, q27, [sp, #704]
        ldp     q28, q29, [sp, #736]
        ldp     q30, q31, [sp, #768]
        ldp     x2, x3, [sp, #256]      // the handler may have changed ELR (to skip an instruction)
        msr     elr_el1, x2
        msr     spsr_el1, x3
        ldp     x2, x3, [sp, #16]
        ldp     x4, x5, [sp, #32]
        ldp     x6, x7, [sp, #48]
        ldp     x8, x9, [sp, #64]
        ldp     x10, x11, [sp, #80]
        ldp     x12, x13, [sp, #96]
        ldp     x14, x15, [sp, #112]
        ldp     x16, x17, [sp, #128]
        ldp     x18, x19, [sp, #144]
        ldp     x20, x21, [sp, #160]
        ldp     x22, x23, [sp, #176]
        ldp     x24, x25, [sp, #192]
        ldp     x26, x27, [sp, #208]
        ldp     x28, x29, [sp, #224]
        ldr     x30, [sp, #240]
        ldp     x0, x1, [sp, #0]
        add     sp, sp, #FRAME_SIZE
        eret
