/*
 * Where a test kernel lives. Usable from C, assembly and the linker script.
 *
 * The ELF notes say VIRT_BASE 0xffffffff80000000 and PADDR_OFFSET 0, and the image is
 * linked with p_paddr = p_vaddr - VIRT_BASE, so the builder maps pfn 0 of the domain at
 * GUEST_VIRT_BASE and the kernel's first page is pfn 0. The whole bootstrap region
 * (kernel, p2m, start_info, page tables, boot stack) is then GUEST_VIRT_BASE + pfn * 4096
 * for the pfns it covers.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#ifdef __ASSEMBLER__
#define GUEST_VIRT_BASE 0xffffffff80000000
#else
#define GUEST_VIRT_BASE 0xffffffff80000000UL
#endif

/* __HYPERVISOR_iret, for entry.S (public/xen.h is C only; setup.c checks the two). */
#define GUEST_HYPERCALL_IRET 23

/* Our own stack (in .bss): the builder's boot stack is a single page. */
#define GUEST_STACK_SIZE (64 * 1024)

/* Offsets in struct trap_frame (traps.h), shared with entry.S. */
#define TF_R15 0
#define TF_R14 8
#define TF_R13 16
#define TF_R12 24
#define TF_RBP 32
#define TF_RBX 40
#define TF_R11 48
#define TF_R10 56
#define TF_R9 64
#define TF_R8 72
#define TF_RAX 80
#define TF_RCX 88
#define TF_RDX 96
#define TF_RSI 104
#define TF_RDI 112
#define TF_VECTOR 120
#define TF_ERROR 128
#define TF_RIP 136
#define TF_CS 144
#define TF_RFLAGS 152
#define TF_RSP 160
#define TF_SS 168
#define TF_SIZE 176

/* Offsets in struct trap_catch (traps.h), shared with entry.S. */
#define TC_RSP 0
#define TC_RBX 8
#define TC_RBP 16
#define TC_R12 24
#define TC_R13 32
#define TC_R14 40
#define TC_R15 48
#define TC_OUTER 56

/* Offsets in struct entry_regs (guest.h), shared with head.S. */
#define ER_RAX 0
#define ER_RBX 8
#define ER_RCX 16
#define ER_RDX 24
#define ER_RSI 32
#define ER_RDI 40
#define ER_RBP 48
#define ER_RSP 56
#define ER_R8 64
#define ER_R9 72
#define ER_R10 80
#define ER_R11 88
#define ER_R12 96
#define ER_R13 104
#define ER_R14 112
#define ER_R15 120
#define ER_RFLAGS 128
#define ER_CS 136
#define ER_SS 144
#define ER_DS 152
#define ER_ES 160
#define ER_FS 168
#define ER_GS 176
#define ER_SIZE 184

#endif
