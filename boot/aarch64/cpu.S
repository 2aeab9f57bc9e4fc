// Privileged instructions and system registers C# cannot express (AAPCS64 leaf functions).
        .text
.macro FUNC name
        .globl \name
        .type \name, @function
        .balign 16
\name:
.endm

FUNC cpu_wfi
        wfi
        ret
// The race-free wait, entered and left with IRQs masked: WFI wakes on a pending interrupt
// even while PSTATE.I masks it; unmasking then takes it, and we mask again.
FUNC cpu_wait_for_interrupt_disabled
        wfi
        msr     daifclr, #2
        isb
        msr     daifset, #2
        ret
FUNC cpu_yield
        yield
        ret
FUNC cpu_irq_disable
        msr     daifset, #2
        ret
FUNC cpu_irq_enable
        msr     daifclr, #2
        ret
FUNC cpu_read_cntvct
        isb                             // the counter read must not be speculated early
        mrs     x0, cntvct_el0
        ret
FUNC cpu_read_cntfrq
        mrs     x0, cntfrq_el0
        ret
// The virtual timer: it fires when CNTVCT_EL0 >= CNTV_CVAL_EL0 while CNTV_CTL_EL0.ENABLE is set.
FUNC cpu_write_cntv_cval
        msr     cntv_cval_el0, x0
        isb
        ret
FUNC cpu_write_cntv_ctl
        msr     cntv_ctl_el0, x0
        isb
        ret
FUNC cpu_read_ttbr0
        mrs     x0, ttbr0_el1
        ret
FUNC cpu_sync_page_tables               // new entries visible to the table walker
        dsb     ishst
        tlbi    vmalle1
        dsb     ish
        isb
        ret
FUNC cpu_undefined_instruction
        udf     #0
        ret
// Turn on SCTLR_EL1.A and load 4 bytes from x0 (unaligned: an alignment fault).
FUNC cpu_unaligned_load_with_check
        mrs     x1, sctlr_el1
        orr     x1, x1, #(1 << 1)
        msr     sctlr_el1, x1
        isb
        ldr     w0, [x0]
        ret

// Semihosting SYS_EXIT (0x18) with the AArch64 parameter block {reason, subcode}; QEMU
// (-semihosting) exits with the subcode. Without -semihosting the hlt is an undefined
// instruction: the exception handler recognizes this address and powers off through PSCI.
FUNC semihosting_exit                   // x0 = exit status
        sub     sp, sp, #16
        mov     x1, #0x0026
        movk    x1, #0x2, lsl #16       // ADP_Stopped_ApplicationExit
        stp     x1, x0, [sp]
        mov     x1, sp
        mov     x0, #0x18
        .globl semihosting_hlt
semihosting_hlt:
        hlt     #0xf000
        add     sp, sp, #16
        ret
FUNC psci_system_off                    // PSCI 0.2 SYSTEM_OFF through the hypervisor call
        ldr     x0, =0x84000008
        hvc     #0
        ret
        .ltorg
