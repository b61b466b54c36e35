/*
 * Start of day of a test kernel, its Xen ELF notes and its hypercall page.
 *
 * The builder enters _start in 64-bit guest kernel mode with rsi = start_info (virtual),
 * rsp at the top of its one-page boot stack, events masked and no trap table: any fault
 * before set_trap_table kills the domain. So this code only stores the entry registers
 * (the boot test checks them), clears .bss, moves to our own stack and calls C.
 */
#include <public/elfnote.h>
#include <public/features.h>
#include <guest/layout.h>

/* One "Xen" note: 4-byte name size, descriptor size, type, "Xen\0", descriptor. */
.macro xen_note type:req, desc:vararg
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 2f - 1f, \type
    .asciz "Xen"
1:  \desc
2:  .balign 4
    .popsection
.endm

xen_note XEN_ELFNOTE_GUEST_OS, .asciz "enso-test"
xen_note XEN_ELFNOTE_LOADER, .asciz "generic"
xen_note XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0"
xen_note XEN_ELFNOTE_VIRT_BASE, .quad GUEST_VIRT_BASE
xen_note XEN_ELFNOTE_PADDR_OFFSET, .quad 0
xen_note XEN_ELFNOTE_ENTRY, .quad _start
xen_note XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page
/* What Linux declares: Xen's dom0 builder refuses a kernel whose SUPPORTED_FEATURES
 * lacks XENFEAT_dom0. */
xen_note XEN_ELFNOTE_FEATURES, .asciz "!writable_page_tables|pae_pgdir_above_4gb"
xen_note XEN_ELFNOTE_SUPPORTED_FEATURES, \
    .long (1 << XENFEAT_writable_page_tables) | (1 << XENFEAT_dom0)

    .section .text.head, "ax"
    .code64
    .globl _start
_start:
    mov %rax, entry_regs + ER_RAX(%rip)
    mov %rbx, entry_regs + ER_RBX(%rip)
    mov %rcx, entry_regs + ER_RCX(%rip)
    mov %rdx, entry_regs + ER_RDX(%rip)
    mov %rsi, entry_regs + ER_RSI(%rip)
    mov %rdi, entry_regs + ER_RDI(%rip)
    mov %rbp, entry_regs + ER_RBP(%rip)
    mov %rsp, entry_regs + ER_RSP(%rip)
    mov %r8, entry_regs + ER_R8(%rip)
    mov %r9, entry_regs + ER_R9(%rip)
    mov %r10, entry_regs + ER_R10(%rip)
    mov %r11, entry_regs + ER_R11(%rip)
    mov %r12, entry_regs + ER_R12(%rip)
    mov %r13, entry_regs + ER_R13(%rip)
    mov %r14, entry_regs + ER_R14(%rip)
    mov %r15, entry_regs + ER_R15(%rip)
    /* pushf uses the builder's stack, which is ours to use. */
    pushfq
    popq entry_regs + ER_RFLAGS(%rip)
    xor %eax, %eax
    mov %cs, %ax
    mov %rax, entry_regs + ER_CS(%rip)
    xor %eax, %eax
    mov %ss, %ax
    mov %rax, entry_regs + ER_SS(%rip)
    xor %eax, %eax
    mov %ds, %ax
    mov %rax, entry_regs + ER_DS(%rip)
    xor %eax, %eax
    mov %es, %ax
    mov %rax, entry_regs + ER_ES(%rip)
    xor %eax, %eax
    mov %fs, %ax
    mov %rax, entry_regs + ER_FS(%rip)
    xor %eax, %eax
    mov %gs, %ax
    mov %rax, entry_regs + ER_GS(%rip)

    /* The builder must zero what the ELF leaves out (the boot test checks the first
     * non-zero byte found here), but do not rely on it. */
    lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    cld
    repe scasb
    je 1f
    lea -1(%rdi), %rax
    mov %rax, bss_nonzero_at_entry(%rip)
1:
    lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    cld
    rep stosb

    lea guest_stack + GUEST_STACK_SIZE(%rip), %rsp
    xor %ebp, %ebp
    mov entry_regs + ER_RSI(%rip), %rdi
    call guest_start
    /* guest_start shuts the domain down; if that ever returns, stop here. */
2:  ud2
    jmp 2b

/*
 * The builder fills this page with one 32-byte stub per hypercall number. Until then
 * it holds int3, so a call into an unfilled page stops at once.
 */
    .section .text.hypercall_page, "ax"
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc

    .section .data
    .balign 8
    .globl entry_regs
entry_regs:
    .fill ER_SIZE, 1, 0
    .globl bss_nonzero_at_entry
bss_nonzero_at_entry:
    .quad 0

    .section .bss.stack, "aw", @nobits
    .balign 4096
    .globl guest_stack
guest_stack:
    .skip GUEST_STACK_SIZE
