// The GICv3 CPU interface is a set of system registers, not MMIO (ARM IHI 0069, the ICC_*_EL1
// register descriptions); C# reaches each through one of these AAPCS64 leaf functions.
// A system register write takes effect only after a context synchronization event, so writes
// that change how interrupts are signalled end with an isb.
        .text
.macro FUNC name
        .globl \name
        .type \name, @function
        .balign 16
\name:
.endm

FUNC gic_cpu_has_sysregs                // ID_AA64PFR0_EL1.GIC (bits 27:24) != 0
        mrs     x0, id_aa64pfr0_el1
        ubfx    x0, x0, #24, #4
        ret
FUNC gic_read_mpidr                     // this CPU's affinity: Aff3 [39:32], Aff2-Aff0 [23:0]
        mrs     x0, mpidr_el1
        ret
FUNC gic_read_sre                       // ICC_SRE_EL1
        mrs     x0, icc_sre_el1
        ret
FUNC gic_write_sre
        msr     icc_sre_el1, x0
        isb
        ret
FUNC gic_write_pmr                      // ICC_PMR_EL1: priority mask
        msr     icc_pmr_el1, x0
        isb
        ret
FUNC gic_write_bpr1                     // ICC_BPR1_EL1: binary point, group 1
        msr     icc_bpr1_el1, x0
        isb
        ret
FUNC gic_read_ctlr                      // ICC_CTLR_EL1
        mrs     x0, icc_ctlr_el1
        ret
FUNC gic_write_igrpen1                  // ICC_IGRPEN1_EL1: group 1 on/off
        msr     icc_igrpen1_el1, x0
        isb
        ret
FUNC gic_read_iar1                      // ICC_IAR1_EL1: acknowledge, INTID in 23:0
        mrs     x0, icc_iar1_el1
        dsb     sy                      // later memory accesses see the interrupt as taken
        ret
FUNC gic_write_eoir1                    // ICC_EOIR1_EL1: priority drop + deactivate
        msr     icc_eoir1_el1, x0
        isb
        ret
FUNC gic_write_sgi1r                    // ICC_SGI1R_EL1: send a group 1 SGI
        dsb     ishst                   // memory written before the SGI is visible to its handler
        msr     icc_sgi1r_el1, x0
        isb
        ret
