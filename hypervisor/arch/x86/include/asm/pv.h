/* 64-bit PV guests: entry/exit, trap bouncing, emulation, hypercalls (arch/x86/pv/). */
#ifndef ASM_PV_H
#define ASM_PV_H

#include <enso/types.h>
#include <asm/regs.h>

struct vcpu;
struct domain;

#define X86_EFLAGS_TF (1UL << 8)
#define X86_EFLAGS_DF (1UL << 10)
#define X86_EFLAGS_IOPL (3UL << 12)
#define X86_EFLAGS_NT (1UL << 14)
#define X86_EFLAGS_RF (1UL << 16)
#define X86_EFLAGS_VM (1UL << 17)

/* Page-fault error code bits. */
#define PFEC_present (1U << 0)
#define PFEC_write (1U << 1)
#define PFEC_user (1U << 2)
#define PFEC_insn (1U << 4)

/* The L4 the vCPU runs on in its current mode. */
mfn_t pv_active_table(const struct vcpu *v);
/* Guest kernel <-> guest user: page tables and GS base follow the mode. */
void pv_toggle_mode(struct vcpu *v);
/* Print a guest vCPU's registers (before enso kills its domain). */
void pv_dump_guest_state(const struct vcpu *v, const struct cpu_user_regs *regs);
void pv_load_data_selectors(struct vcpu *v);
/* in/out, cli/sti by a guest whose virtual IOPL allows them (pv/iopl.c): done. */
bool pv_emulate_iopl_insn(struct cpu_user_regs *regs, const uint8_t *bytes, unsigned int len);
/* A #PF that is QEMU's way of running the guest's own iret (pv/qemu_iret.c): done. */
bool pv_emulate_qemu_iret(struct cpu_user_regs *regs, uint32_t error_code);

/* Deliver an exception to the guest's handler; error_code < 0: none. */
void pv_inject_exception(struct cpu_user_regs *regs, unsigned int vector, long error_code);
void pv_inject_page_fault(struct cpu_user_regs *regs, uint64_t cr2, uint32_t error_code);
/* An exception the guest caused (regs from ring 3; cr2 as read at entry for a #PF),
 * handled with interrupts on. */
void pv_guest_exception(struct cpu_user_regs *regs, uint64_t cr2);
/* int $0x80 from a guest (the IDT gate has DPL 3). */
void pv_int80(struct cpu_user_regs *regs);

/* Emulation of what PV kernels may not execute; true if handled. */
bool pv_emulate_privileged(struct cpu_user_regs *regs);
bool pv_emulate_forced_cpuid(struct cpu_user_regs *regs);

/* Hypercall dispatch (SYSCALL from guest kernel mode). */
void pv_hypercall(struct cpu_user_regs *regs);
long pv_do_hypercall(unsigned long nr, const unsigned long args[6]);

/* Per-CPU SYSCALL MSRs. */
void pv_syscall_init_cpu(void);

/* Called from C with the vCPU's guest frame. */
void pv_syscall(struct cpu_user_regs *regs);
void pv_syscall32(struct cpu_user_regs *regs);
void pv_exit_work(struct cpu_user_regs *regs);

#endif
