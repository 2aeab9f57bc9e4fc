// aarch64 entry on QEMU virt. `-kernel kernel.elf` loads us at our link address (RAM + 2 MiB)
// and enters at EL1 (EL2 with virtualization=on) with the MMU off and x0 = 0, the device tree
// at the start of RAM; the Linux Image protocol would pass its address in x0 instead.
// Before any C# runs: FP/SIMD on (compiled C# copies structs with q registers) and the MMU
// on (compiled C# makes unaligned and paired accesses, which Device memory - all memory
// with the MMU off - does not allow). The boot map covers only the GiB holding the kernel
// (Normal, write-back); everything else, page 0 included, stays unmapped until C# maps
// devices from the device tree (kernel/memory/PageTables.cs).

#define STACK_SIZE      (256 * 1024)
#define MAIR_VALUE      0x4400FF        /* attr0 Normal WB, attr1 Device-nGnRnE, attr2 Normal NC */
#define TCR_VALUE       0x803510        /* T0SZ=16 (48-bit VA), WB WA walks, inner shareable,
                                           4 KiB granule, EPD1 (no TTBR1); IPS inserted below */
#define NORMAL_BLOCK    0x701           /* block, AttrIndx 0, inner shareable, AF */

        .section .boot.text, "ax"
        .globl _start
_start:
        mov     x19, x0                 // device tree address, or 0 for an ELF boot

        mrs     x0, CurrentEL
        lsr     x0, x0, #2
        cmp     x0, #2
        b.ne    at_el1
        // EL2 -> EL1: EL1 runs AArch64, may use the counter, and FP is not trapped.
        mov     x0, #(1 << 31)          // HCR_EL2.RW
        msr     hcr_el2, x0
        mov     x0, #3
        msr     cnthctl_el2, x0
        msr     cntvoff_el2, xzr
        mov     x0, #0x33FF
        msr     cptr_el2, x0
        // GICv3 CPU interface: ICC_SRE_EL2.SRE (bit 0) puts EL2 on the system registers and
        // .Enable (bit 3) lets EL1 use ICC_SRE_EL1; otherwise every EL1 ICC_* access traps
        // to EL2 (ARM IHI 0069, ICC_SRE_EL2). Only when the CPU has that interface
        // (ID_AA64PFR0_EL1.GIC != 0): with a GICv2 ICC_SRE_EL2 does not exist.
        mrs     x0, id_aa64pfr0_el1
        ubfx    x0, x0, #24, #4
        cbz     x0, 1f
        mrs     x0, icc_sre_el2
        orr     x0, x0, #(1 << 0)
        orr     x0, x0, #(1 << 3)
        msr     icc_sre_el2, x0
        isb
1:
        mov     x0, #0x3c5              // EL1h with D, A, I, F masked
        msr     spsr_el2, x0
        adr     x0, at_el1
        msr     elr_el2, x0
        eret

at_el1:
        adrp    x0, boot_stack_top
        add     x0, x0, :lo12:boot_stack_top
        mov     sp, x0

        mov     x0, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps at EL1
        msr     cpacr_el1, x0
        isb

        // L0[0] -> L1 (0 .. 512 GiB); L1[kernel / 1 GiB] = 1 GiB Normal block.
        adrp    x0, boot_l0
        adrp    x1, boot_l1
        orr     x2, x1, #3
        str     x2, [x0]
        adr     x3, _start
        lsr     x4, x3, #30
        lsl     x5, x4, #30
        mov     x6, #NORMAL_BLOCK
        orr     x5, x5, x6
        str     x5, [x1, x4, lsl #3]
        dsb     ish

        ldr     x0, =MAIR_VALUE
        msr     mair_el1, x0
        mrs     x1, id_aa64mmfr0_el1    // physical address size the CPU supports
        and     x1, x1, #7
        ldr     x0, =TCR_VALUE
        bfi     x0, x1, #32, #3         // TCR_EL1.IPS
        msr     tcr_el1, x0
        adrp    x0, boot_l0
        msr     ttbr0_el1, x0
        isb
        tlbi    vmalle1
        dsb     nsh
        isb

        mrs     x0, sctlr_el1
        orr     x0, x0, #(1 << 0)       // M: MMU on
        orr     x0, x0, #(1 << 2)       // C: data cache
        orr     x0, x0, #(1 << 12)      // I: instruction cache
        bic     x0, x0, #(1 << 1)       // A: no alignment checks
        bic     x0, x0, #(1 << 19)      // WXN
        msr     sctlr_el1, x0
        isb

        adrp    x0, exception_vectors
        add     x0, x0, :lo12:exception_vectors
        msr     vbar_el1, x0
        isb

        mov     x0, x19
        bl      kernel_entry
1:      wfi
        b       1b
        .ltorg

        .section .bss
        .balign 4096
        .globl boot_l0
boot_l0:        .skip 4096
boot_l1:        .skip 4096
        .balign 16
boot_stack:     .skip STACK_SIZE
boot_stack_top:
