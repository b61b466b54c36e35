/*
 * Application-processor start-up. setup code copies this blob to a page below 1 MiB and
 * sends STARTUP IPIs pointing at it, so an AP starts here in real mode with CS = page >> 4,
 * IP = 0. The blob is position independent: it finds its base from CS and patches its
 * own GDT pointer and far-jump targets. It enters long mode on trampoline_l4 (enso's
 * tables plus a 1:1 map of the first 2 MiB), then jumps to ap_entry at its high address.
 */
#include <asm/boot.h>

#define OFF(x) ((x) - trampoline_start)
#define T_CS32 0x08
#define T_DS 0x10
#define T_CS64 0x18

        .section .rodata, "a", @progbits
        .code16
        .globl trampoline_start, trampoline_end, trampoline_cr3
trampoline_start:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        movzwl  %ax, %ebx
        shl     $4, %ebx                        /* ebx = physical base of the blob */

        lea     OFF(tramp_gdt)(%ebx), %eax
        mov     %eax, OFF(tramp_gdtr) + 2
        lea     OFF(tramp32)(%ebx), %eax
        mov     %eax, OFF(far32)
        lea     OFF(tramp64)(%ebx), %eax
        mov     %eax, OFF(far64)

        lgdtl   OFF(tramp_gdtr)
        mov     %cr0, %eax
        or      $X86_CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   *OFF(far32)

        .code32
tramp32:
        mov     $T_DS, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %cr4, %eax
        or      $X86_CR4_PAE, %eax
        mov     %eax, %cr4
        mov     OFF(trampoline_cr3)(%ebx), %eax
        mov     %eax, %cr3
        /* EFER: long mode; NX if the boot CPU had it (same setting on every CPU). */
        mov     $MSR_EFER, %ecx
        rdmsr
        or      OFF(trampoline_efer)(%ebx), %eax
        wrmsr
        mov     %cr0, %eax
        or      $(X86_CR0_PG | X86_CR0_WP), %eax
        mov     %eax, %cr0
        ljmp    *OFF(far64)(%ebx)

        .code64
tramp64:
        movabs  $ap_entry, %rax
        jmp     *%rax

        .balign 8
tramp_gdt:
        .quad   0
        .quad   0x00cf9a000000ffff              /* T_CS32 */
        .quad   0x00cf92000000ffff              /* T_DS */
        .quad   0x00af9a000000ffff              /* T_CS64 */
tramp_gdtr:
        .short  4 * 8 - 1
        .long   0
far32:
        .long   0
        .short  T_CS32
far64:
        .long   0
        .short  T_CS64
        .balign 4
trampoline_cr3:
        .long   0
        .globl trampoline_efer
trampoline_efer:
        .long   0
trampoline_end:

        .text
        .globl ap_entry
ap_entry:
        mov     ap_boot_stack(%rip), %rsp
        xor     %ebp, %ebp
        mov     ap_boot_cpu(%rip), %edi
        call    start_secondary
        ud2
