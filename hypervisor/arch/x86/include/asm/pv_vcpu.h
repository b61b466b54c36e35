/*
 * VCPUOP_initialise for 64-bit PV vCPUs (arch/x86/pv/vcpu_context.c): a whole
 * struct vcpu_guest_context checked and loaded into a vCPU that has never run.
 */
#ifndef ASM_PV_VCPU_H
#define ASM_PV_VCPU_H

#include <enso/types.h>
#include <public/xen.h>

struct cpu_user_regs;
struct vcpu;

/*
 * Check c the way Xen 4.17's arch_set_info_guest does for a 64-bit PV vCPU that is not
 * initialised yet, take the references it needs (GDT frames, the kernel and user L4
 * under the root page-table type) and load it into v, which must be down and never
 * have run. 0, or -errno with nothing taken and v unchanged as far as it can run.
 * VGCF_online is the caller's business.
 */
int pv_vcpu_initialise(struct vcpu *v, const struct vcpu_guest_context *c);

/* DR6 and DR7 as the CPU resets them (no status bit, no breakpoint enabled). */
#define DR6_DEFAULT 0xffff0ff0UL
#define DR7_DEFAULT 0x400UL

/* set_debugreg for v (current, or not running): 0 or Xen's errno, nothing changed. */
long pv_set_debugreg(struct vcpu *v, unsigned long reg, uint64_t value);
/* Context switch (this CPU, interrupts off): prev's breakpoints off, next's on; either
 * may be NULL (an idle vCPU). */
void pv_debugregs_switch(const struct vcpu *prev, const struct vcpu *next);
/* A #DB the guest raised itself (regs from ring 3), with the CPU's DR6 as it was at
 * entry (the CPU's own since reset to DR6_DEFAULT): into the virtual DR6, and the
 * guest gets vector 1. */
void pv_debug_exception(struct cpu_user_regs *regs, uint64_t dr6);

#endif
