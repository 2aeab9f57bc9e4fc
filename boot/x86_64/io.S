// The register access layer (Linux: ioread8..iowrite64, inb..outl). Each accessor is exactly
// one load or store of its stated width. They are written in assembly because the compiler
// may merge, drop, hoist or narrow even volatile accesses (see ../shared/notes); an ordinary
// call is a compiler barrier, and x86 keeps uncached MMIO accesses in program order.
// tools/accessor-check disassembles the linked kernel and proves each is one access.
// SysV ABI: address/port in rdi, value in rsi, result in rax.

        .text
.macro ACCESSOR name
        .globl \name
        .type \name, @function
        .balign 16
\name:
.endm
.macro END name
        .size \name, . - \name
.endm

ACCESSOR ioread8
        movzbl  (%rdi), %eax
        ret
END ioread8
ACCESSOR ioread16
        movzwl  (%rdi), %eax
        ret
END ioread16
ACCESSOR ioread32
        movl    (%rdi), %eax
        ret
END ioread32
ACCESSOR ioread64
        movq    (%rdi), %rax
        ret
END ioread64

ACCESSOR iowrite8
        movb    %sil, (%rdi)
        ret
END iowrite8
ACCESSOR iowrite16
        movw    %si, (%rdi)
        ret
END iowrite16
ACCESSOR iowrite32
        movl    %esi, (%rdi)
        ret
END iowrite32
ACCESSOR iowrite64
        movq    %rsi, (%rdi)
        ret
END iowrite64

ACCESSOR inb
        mov     %edi, %edx
        inb     %dx, %al
        movzbl  %al, %eax
        ret
END inb
ACCESSOR inw
        mov     %edi, %edx
        inw     %dx, %ax
        movzwl  %ax, %eax
        ret
END inw
ACCESSOR inl
        mov     %edi, %edx
        inl     %dx, %eax
        ret
END inl

ACCESSOR outb
        mov     %edi, %edx
        mov     %esi, %eax
        outb    %al, %dx
        ret
END outb
ACCESSOR outw
        mov     %edi, %edx
        mov     %esi, %eax
        outw    %ax, %dx
        ret
END outw
ACCESSOR outl
        mov     %edi, %edx
        mov     %esi, %eax
        outl    %eax, %dx
        ret
END outl

// Barriers with Linux's x86-64 meanings: mb = mfence, rmb = lfence, wmb = sfence. Coherent
// DMA memory on x86 is strongly ordered, so dma_rmb/dma_wmb only have to stop the compiler,
// which any call does. virt_mb orders an earlier store before a later load (the one
// reordering x86 allows), so it needs a real fence, as Linux's smp_mb does.
ACCESSOR arch_mb
        mfence
        ret
END arch_mb
ACCESSOR arch_rmb
        lfence
        ret
END arch_rmb
ACCESSOR arch_wmb
        sfence
        ret
END arch_wmb
ACCESSOR arch_dma_rmb
        ret
END arch_dma_rmb
ACCESSOR arch_dma_wmb
        ret
END arch_dma_wmb
ACCESSOR arch_virt_mb
        mfence
        ret
END arch_virt_mb
