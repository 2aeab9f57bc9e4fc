// Addresses only the linker knows, handed to C# as tiny functions (C# cannot name a linker
// symbol directly).
        .text
.macro SYMBOL func, sym
        .globl \func
        .type \func, @function
\func:
        lea     \sym(%rip), %rax
        ret
.endm
SYMBOL sym_image_start, __image_start
SYMBOL sym_image_end, __bss_end
SYMBOL sym_modules_start, __modules_start
SYMBOL sym_modules_end, __modules_end
SYMBOL sym_isr_stubs, isr_stubs
