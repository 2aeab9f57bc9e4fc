// The assembly-only baseline for the boot benchmark: the smallest kernel QEMU boots the same
// way as GuestOS (Multiboot a.out kludge), printing one line on COM1 and exiting through
// isa-debug-exit with PASS. Whatever GuestOS adds on top of this is the C# kernel's cost.
        .section .multiboot, "a"
        .balign 4
header:
        .long 0x1BADB002, 0x00010002, -(0x1BADB002 + 0x00010002)
        .long header, __image_start, __data_end, __bss_end, _start
        .section .boot.text, "ax"
        .code32
        .globl _start
_start:
        mov     $message, %esi
1:      lodsb
        test    %al, %al
        jz      2f
        mov     $0x3F8, %dx
        outb    %al, %dx
        jmp     1b
2:      mov     $0xF4, %dx
        mov     $0x10, %eax             // PASS
        outl    %eax, %dx
3:      hlt
        jmp     3b
message:
        .asciz "baseline: assembly-only kernel\r\nGUESTOS-VERDICT: PASS\r\n"
