// Runtime helpers ilc's generated code calls with a special register convention, which C#
// cannot express.

        .text
// RhpByRefAssignRef: copy one object reference from [rsi] to [rdi] and advance both by 8
// (used for struct copies containing references). Without a GC there is no card marking.
        .globl RhpByRefAssignRef
        .type RhpByRefAssignRef, @function
RhpByRefAssignRef:
        movq    (%rsi), %rcx
        movq    %rcx, (%rdi)
        add     $8, %rdi
        add     $8, %rsi
        ret

        .data
        .balign 8
        .globl __security_cookie
__security_cookie: .quad 0x2f6b3c1d9e8a4757
