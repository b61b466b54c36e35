/*
 * enso's entry. A multiboot 1 loader (QEMU -kernel) or a multiboot 2 loader (GRUB) puts
 * the image at ENSO_LOAD_PADDR and jumps to start32 in 32-bit protected mode with paging
 * off. We check for long mode, turn on paging with boot page tables that map the low
 * 4 GiB 1:1 (for the loader's data) and enso's image at its link address, and call
 * start_enso() in C at the high address.
 *
 * Both headers use the "address" form (a.out kludge / address tag), so the loaders take
 * the load layout from the header and build/enso can be a flat binary.
 */
#include <asm/layout.h>
#include <asm/boot.h>

#define sym_phys(s) ((s) - ENSO_VIRT_START)

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* align modules, mem info, address */
#define MB2_MAGIC 0xe85250d6

        .section .text.header, "ax", @progbits
        .code32
        .globl _start
_start:
        jmp     start32

        .align 4
mb1_header:
        .long   MB1_MAGIC
        .long   MB1_FLAGS
        .long   -(MB1_MAGIC + MB1_FLAGS)
        .long   sym_phys(mb1_header)
        .long   sym_phys(_start)
        .long   sym_phys(__load_end)
        .long   sym_phys(__bss_end)
        .long   sym_phys(start32)

        .align 8
mb2_header:
        .long   MB2_MAGIC
        .long   0                               /* architecture: i386 */
        .long   mb2_header_end - mb2_header
        .long   -(MB2_MAGIC + (mb2_header_end - mb2_header))
        /* address tag */
        .short  2, 0
        .long   24
        .long   sym_phys(mb2_header)
        .long   sym_phys(_start)
        .long   sym_phys(__load_end)
        .long   sym_phys(__bss_end)
        /* entry address tag (padded to 8 bytes) */
        .short  3, 0
        .long   12
        .long   sym_phys(start32)
        .long   0
        /* end tag */
        .short  0, 0
        .long   8
mb2_header_end:

start32:
        cli
        cld
        mov     $sym_phys(boot_stack_top), %esp
        mov     %eax, sym_phys(boot_loader_magic)
        mov     %ebx, sym_phys(boot_loader_info)

        /* Long mode and NX from the extended CPUID leaves. */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      .Lno_long_mode
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     .Lno_long_mode
        mov     %edx, %ebp                      /* keep the feature word for NX */

        /* The loader zeroes .bss per the header, but not every loader can be trusted. */
        mov     $sym_phys(__bss_start), %edi
        mov     $sym_phys(__bss_end), %ecx
        sub     %edi, %ecx
        xor     %eax, %eax
        rep stosb

        mov     %cr4, %eax
        or      $X86_CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $sym_phys(boot_l4), %eax
        mov     %eax, %cr3

        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        bt      $20, %ebp
        jnc     1f
        or      $EFER_NXE, %eax
1:      wrmsr

        mov     %cr0, %eax
        or      $(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE), %eax
        mov     %eax, %cr0

        lgdt    sym_phys(boot_gdtr)
        ljmp    $BOOT_CS, $sym_phys(start64_low)

.Lno_long_mode:
        /* No console yet: write the reason straight to COM1 and stop. */
        mov     $sym_phys(no_lm_msg), %esi
2:      lodsb
        test    %al, %al
        jz      3f
        mov     $0x3f8, %dx
        out     %al, %dx
        jmp     2b
3:      hlt
        jmp     3b

        .code64
start64_low:
        movabs  $start64_high, %rax
        jmp     *%rax

        .text
start64_high:
        mov     $BOOT_DS, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        lea     boot_stack_top(%rip), %rsp
        xor     %ebp, %ebp                      /* ends the backtrace */
        mov     boot_loader_magic(%rip), %edi
        mov     boot_loader_info(%rip), %esi
        call    start_enso
        ud2

        .section .rodata, "a", @progbits
no_lm_msg:
        .asciz  "enso: this CPU has no 64-bit long mode; cannot boot\r\n"

        .data
        .align 8
        .globl boot_loader_magic, boot_loader_info
boot_loader_magic:
        .long   0
boot_loader_info:
        .long   0

        .align 16
boot_gdt:
        .quad   0
        .quad   0x00af9a000000ffff              /* BOOT_CS: 64-bit code */
        .quad   0x00cf92000000ffff              /* BOOT_DS: flat data */
boot_gdt_end:
boot_gdtr:
        .short  boot_gdt_end - boot_gdt - 1
        .long   sym_phys(boot_gdt)

        /*
         * Boot page tables: L4[0] maps the low 4 GiB 1:1 with 2 MiB pages, L4[261] maps
         * the 1 GiB at ENSO_VIRT_START onto physical 0 (so the image at 2 MiB appears at
         * its link address). C code replaces them with enso's real tables early on.
         */
        .section .data.page_aligned, "aw", @progbits
        .align 4096
        .globl boot_l4
boot_l4:
        .quad   sym_phys(boot_l3_ident) + 0x3
        .fill   260, 8, 0
        .quad   sym_phys(boot_l3_high) + 0x3
        .fill   250, 8, 0
boot_l3_ident:
        .quad   sym_phys(boot_l2_ident) + 0x0000 + 0x3
        .quad   sym_phys(boot_l2_ident) + 0x1000 + 0x3
        .quad   sym_phys(boot_l2_ident) + 0x2000 + 0x3
        .quad   sym_phys(boot_l2_ident) + 0x3000 + 0x3
        .fill   508, 8, 0
boot_l3_high:
        .fill   322, 8, 0
        .quad   sym_phys(boot_l2_high) + 0x3
        .fill   189, 8, 0
boot_l2_ident:
        .set    i, 0
        .rept   2048
        .quad   (i << 21) | 0x83
        .set    i, i + 1
        .endr
boot_l2_high:
        .set    i, 0
        .rept   512
        .quad   (i << 21) | 0x83
        .set    i, i + 1
        .endr

        .section .bss.stack, "aw", @nobits
        .align 4096
        .globl boot_stack, boot_stack_top
boot_stack:
        .skip   BOOT_STACK_SIZE
boot_stack_top:
