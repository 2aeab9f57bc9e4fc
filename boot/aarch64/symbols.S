// Addresses only the linker knows, handed to C# as tiny functions.
        .text
.macro SYMBOL func, sym
        .globl \func
        .type \func, @function
\func:
        adrp    x0, \sym
        add     x0, x0, :lo12:\sym
        ret
.endm
SYMBOL sym_image_start, __image_start
SYMBOL sym_image_end, __bss_end
SYMBOL sym_modules_start, __modules_start
SYMBOL sym_modules_end, __modules_end
SYMBOL sym_isr_stubs, exception_vectors
SYMBOL sym_semihosting_hlt, semihosting_hlt
