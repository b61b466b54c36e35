/* Constants shared by the boot assembly and C. */
#ifndef ASM_BOOT_H
#define ASM_BOOT_H

#define BOOT_CS 0x08
#define BOOT_DS 0x10

#define X86_CR0_PE (1 << 0)
#define X86_CR0_MP (1 << 1)
#define X86_CR0_EM (1 << 2)
#define X86_CR0_TS (1 << 3)
#define X86_CR0_NE (1 << 5)
#define X86_CR0_WP (1 << 16)
#define X86_CR0_AM (1 << 18)
#define X86_CR0_PG (1 << 31)

#define X86_CR4_PAE (1 << 5)
#define X86_CR4_PGE (1 << 7)
#define X86_CR4_OSFXSR (1 << 9)
#define X86_CR4_OSXMMEXCPT (1 << 10)
#define X86_CR4_FSGSBASE (1 << 16)
#define X86_CR4_OSXSAVE (1 << 18)
#define X86_CR4_SMEP (1 << 20)
#define X86_CR4_SMAP (1 << 21)

#define MSR_EFER 0xc0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

/* Stacks: the boot CPU's first stack, and each CPU's stack after bring-up. */
#define BOOT_STACK_SIZE 0x8000
#define STACK_ORDER 3 /* 32 KiB per CPU */
#define STACK_SIZE (4096 << STACK_ORDER)

#endif
