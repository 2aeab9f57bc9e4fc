// Runtime helpers ilc's arm64 code calls with special register conventions (see the .NET
// runtime's arm64 WriteBarriers.S). Without a GC there are no cards to mark: a store suffices.
        .text
.macro FUNC name
        .globl \name
        .type \name, @function
\name:
.endm

// x14 = destination slot, x15 = reference. Must preserve all but x14, x15 (x14 += 8 is allowed
// by the contract: "x14 incremented by 8").
FUNC RhpAssignRefArm64
FUNC RhpCheckedAssignRefArm64
        str     x15, [x14], #8
        ret

// x13 = source slot, x14 = destination slot; both advance by 8. x15 may be trashed.
FUNC RhpByRefAssignRefArm64
        ldr     x15, [x13], #8
        str     x15, [x14], #8
        ret

        .data
        .balign 8
        .globl __security_cookie
__security_cookie: .quad 0x2f6b3c1d9e8a4757
