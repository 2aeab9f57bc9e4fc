// The register access layer for arm64 (Linux: ioread8..iowrite64). Each accessor is exactly
// one load or store of its width to Device-nGnRnE memory, in assembly so the compiler can
// neither merge, drop, hoist nor narrow it. Like Linux's readl/writel they are the *relaxed*
// forms plus no implicit barrier: drivers order ring memory against MMIO with the explicit
// barriers below (Linux's virtio does the same with virtio_wmb before notifying).
// tools/accessor-check disassembles the linked kernel and proves each is one access.
// AAPCS64: address in x0, value in x1, result in x0.

        .text
.macro FUNC name
        .globl \name
        .type \name, @function
        .balign 16
\name:
.endm
// The size delimits each function's code for tools/accessor-check (and gdb).
.macro END name
        .size \name, . - \name
.endm

FUNC ioread8
        ldrb    w0, [x0]
        ret
END ioread8
FUNC ioread16
        ldrh    w0, [x0]
        ret
END ioread16
FUNC ioread32
        ldr     w0, [x0]
        ret
END ioread32
FUNC ioread64
        ldr     x0, [x0]
        ret
END ioread64
FUNC iowrite8
        strb    w1, [x0]
        ret
END iowrite8
FUNC iowrite16
        strh    w1, [x0]
        ret
END iowrite16
FUNC iowrite32
        str     w1, [x0]
        ret
END iowrite32
FUNC iowrite64
        str     x1, [x0]
        ret
END iowrite64

// arm64 has no I/O ports: a driver that reaches these is wrong, so it panics.
FUNC inb
FUNC inw
FUNC inl
FUNC outb
FUNC outw
FUNC outl
        b       port_io_unsupported
END inb
END inw
END inl
END outb
END outw
END outl

// Barriers with Linux's arm64 definitions (arch/arm64/include/asm/barrier.h):
// mb/rmb/wmb = dsb sy/ld/st (also order MMIO), dma_rmb/dma_wmb = dmb oshld/oshst,
// virt_mb = smp_mb = dmb ish.
FUNC arch_mb
        dsb     sy
        ret
END arch_mb
FUNC arch_rmb
        dsb     ld
        ret
END arch_rmb
FUNC arch_wmb
        dsb     st
        ret
END arch_wmb
FUNC arch_dma_rmb
        dmb     oshld
        ret
END arch_dma_rmb
FUNC arch_dma_wmb
        dmb     oshst
        ret
END arch_dma_wmb
FUNC arch_virt_mb
        dmb     ish
        ret
END arch_virt_mb
