/* The register frame every entry into enso saves on the stack (see entry.S). */
#ifndef ASM_REGS_H
#define ASM_REGS_H

#ifndef __ASSEMBLER__
#include <enso/types.h>

struct cpu_user_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8; /* 0x00 */
    uint64_t rax, rcx, rdx, rsi, rdi;                        /* 0x50 */
    uint64_t vector;                                         /* 0x78: pushed by the stub */
    uint64_t error_code;                                     /* 0x80: by CPU or stub */
    uint64_t rip, cs, rflags, rsp, ss;                       /* 0x88: by the CPU */
};
BUILD_BUG_ON(offsetof(struct cpu_user_regs, vector) != 0x78);
BUILD_BUG_ON(sizeof(struct cpu_user_regs) != 0xb0);
BUILD_BUG_ON(offsetof(struct cpu_user_regs, cs) != 0x90);

static inline bool regs_from_guest(const struct cpu_user_regs *r) { return r->cs & 3; }

void show_registers(const struct cpu_user_regs *regs);
void show_backtrace(uint64_t rbp, uint64_t rip);
#endif

#define REGS_VECTOR 0x78
#define REGS_CS 0x90
#define REGS_SIZE 0xb0

/* Pseudo vector in the frame of a SYSCALL entry (no hardware vector has it). */
#define VECTOR_SYSCALL 0x100

/* struct cpu_info offsets used by the SYSCALL entry (checked in smp.c). */
#define CPUINFO_STACK_TOP 8
#define CPUINFO_SCRATCH 16

#endif
