// x86_64 entry: QEMU's -kernel loads this one ELF by either boot protocol.
//   Multiboot1 (pc, q35): a.out kludge header (flag bit 16), so QEMU ignores the ELF64
//                         class it refuses, and enters with eax = 0x2BADB002, ebx = info.
//   PVH (pc, q35, microvm): XEN_ELFNOTE_PHYS32_ENTRY note; ebx = hvm_start_info.
// Both enter in 32-bit protected mode with paging off. We build identity page tables for
// the first GiB, enter long mode, enable
// SSE (compiled C# uses SSE registers for ordinary copies) and call kernel_entry(magic, info).

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        ((1 << 1) | (1 << 16))      /* memory info | a.out kludge */
#define STACK_SIZE      (256 * 1024)

        .section .multiboot, "a"
        .balign 4
multiboot_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long multiboot_header          // header_addr
        .long __image_start             // load_addr
        .long __data_end                // load_end_addr
        .long __bss_end                 // bss_end_addr
        .long _start32                  // entry_addr

        .section .note.pvh, "a", @note
        .balign 4
        .long 4                         // namesz ("Xen\0")
        .long 4                         // descsz
        .long 18                        // XEN_ELFNOTE_PHYS32_ENTRY
        .asciz "Xen"
        .long _start32

        .section .boot.text, "ax"
        .code32
        .globl _start32
        .globl _start
_start:
_start32:
        cli
        cld
        mov     %eax, %edi              // boot magic (Multiboot) or garbage (PVH)
        mov     %ebx, %esi              // info pointer for either protocol
        mov     $boot_stack_top, %esp

        // PML4[0] -> PDPT; PDPT[0] -> PD (1 GiB in 2 MiB pages); PD[0] -> PT (4 KiB pages).
        mov     $boot_pdpt, %eax
        or      $0x3, %eax              // present | writable
        mov     %eax, boot_pml4
        mov     $boot_pd, %eax
        or      $0x3, %eax
        mov     %eax, boot_pdpt
        mov     $boot_pt, %eax
        or      $0x3, %eax
        mov     %eax, boot_pd

        // PT: 4 KiB pages for the first 2 MiB. Page 0 is mapped for now because boot loaders put
        // their information there (QEMU's PVH hvm_start_info); C# unmaps it once that is copied,
        // so that null dereferences fault (PageTables.UnmapNullPage).
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $12, %eax
        or      $0x3, %eax
        mov     %eax, boot_pt(,%ecx,8)
        inc     %ecx
        cmp     $512, %ecx
        jne     1b

        // PD[1..511]: 2 MiB pages (PS bit 7) for 2 MiB .. 1 GiB.
        mov     $1, %ecx
2:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax             // present | writable | page size
        mov     %eax, boot_pd(,%ecx,8)
        inc     %ecx
        cmp     $512, %ecx
        jne     2b

        mov     %cr4, %eax
        or      $(1 << 5), %eax         // PAE
        mov     %eax, %cr4
        mov     $boot_pml4, %eax
        mov     %eax, %cr3
        mov     $0xC0000080, %ecx       // IA32_EFER
        rdmsr
        or      $(1 << 8), %eax         // LME
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       // PG | PE
        mov     %eax, %cr0

        lgdt    boot_gdt_pointer
        ljmp    $0x08, $_start64

        .code64
_start64:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        xor     %ax, %ax
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $boot_stack_top, %rsp

        // SSE: CR0.EM = 0, CR0.MP = 1; CR4.OSFXSR | CR4.OSXMMEXCPT.
        mov     %cr0, %rax
        and     $~(1 << 2), %rax
        or      $(1 << 1), %rax
        mov     %rax, %cr0
        mov     %cr4, %rax
        or      $((1 << 9) | (1 << 10)), %rax
        mov     %rax, %cr4

        // edi = boot magic, esi = info pointer (zero-extended by the 32-bit moves above).
        mov     %edi, %edi
        mov     %esi, %esi
        xor     %ebp, %ebp
        call    kernel_entry
3:      cli
        hlt
        jmp     3b

        .section .rodata
        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00AF9A000000FFFF        // 0x08: 64-bit code, present, DPL 0
        .quad 0x00CF92000000FFFF        // 0x10: data
boot_gdt_end:
boot_gdt_pointer:
        .word boot_gdt_end - boot_gdt - 1
        .quad boot_gdt

        .section .bss
        .balign 4096
        .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4096
boot_pt:        .skip 4096
        .balign 16
boot_stack:     .skip STACK_SIZE
        .globl boot_stack_top
boot_stack_top:
