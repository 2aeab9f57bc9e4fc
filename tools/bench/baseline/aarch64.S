// The assembly-only baseline for the boot benchmark on QEMU virt: print one line on the PL011
// (its address hard-coded: a baseline may) and exit through semihosting with PASS.
        .section .boot.text, "ax"
        .globl _start
_start:
        ldr     x1, =0x09000000
        adr     x2, message
1:      ldrb    w3, [x2], #1
        cbz     w3, 2f
        strb    w3, [x1]
        b       1b
2:      adr     x1, exit_block
        mov     x0, #0x18               // SYS_EXIT
        hlt     #0xf000
3:      wfi
        b       3b
        .balign 8
exit_block:
        .quad 0x20026, (0x10 << 1) | 1
message:
        .asciz "baseline: assembly-only kernel\r\nGUESTOS-VERDICT: PASS\r\n"
        .ltorg
