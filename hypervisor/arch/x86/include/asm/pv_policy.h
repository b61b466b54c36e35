/* What a PV guest sees of CPUID, MSRs and control registers (arch/x86/pv/policy.c). */
#ifndef ASM_PV_POLICY_H
#define ASM_PV_POLICY_H

#include <enso/types.h>

struct vcpu;

void pv_guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* 0 on success; nonzero: the guest gets #GP. */
int pv_guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int pv_guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);
int pv_guest_read_cr(struct vcpu *v, unsigned int cr, uint64_t *val);
int pv_guest_write_cr(struct vcpu *v, unsigned int cr, uint64_t val);

#endif
