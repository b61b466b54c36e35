/*
 * RDMSR/WRMSR for 64-bit PV guests: the guest kernel's MSR accesses trap with #GP and
 * are answered as Xen 4.17 answers them (default settings: msr_relaxed off, vPMU off,
 * cpufreq=xen, dom0 vCPUs not pinned).
 */
#ifndef ASM_PV_MSR_H
#define ASM_PV_MSR_H

#include <asm/pv_cpuid.h>

#define PV_MCE_BANKS 2 /* banks of the emulated machine-check architecture */

/* Per-vCPU MSR state enso keeps for the guest. */
struct pv_msr_vcpu {
    /* The lead wires these to the vCPU (and loads changes into hardware). */
    uint64_t fs_base, gs_base_kernel, gs_base_user;
    bool kernel_mode;
    /*
     * The guest has a #GP handler in its trap table. Until it does, an RDMSR that
     * would fault reads 0 instead, if the MSR exists on the host.
     */
    bool has_gp_handler;
    /* Guest values the caller must load into hardware while the vCPU runs. */
    uint64_t tsc_aux;                /* 32 bits */
    uint64_t spec_ctrl;
    uint32_t dr_mask[4];             /* AMD DR0-3 address masks (DBEXT) */
    /* Bit 0: the guest asked for CPUID faulting (user-mode CPUID raises #GP). */
    uint64_t misc_features_enables;
    /* Emulated machine-check registers. */
    uint64_t mcg_status;
    uint64_t mci_status[PV_MCE_BANKS], mci_addr[PV_MCE_BANKS], mci_misc[PV_MCE_BANKS];
    uint64_t mci_ctl2[PV_MCE_BANKS];
};

struct pv_msr_ctx {
    bool is_dom0;
    /* Host reads, for pass-through and read-only views: 0 = read, else the MSR faulted. */
    int (*host_rdmsr)(uint32_t msr, uint64_t *val);
    /* Host writes, for command MSRs that have no state to keep (PRED_CMD); may be NULL. */
    int (*host_wrmsr)(uint32_t msr, uint64_t val);
    /* Installs the hypercall page at guest frame gfn: 0, or -1 for #GP; may be NULL. */
    int (*set_hypercall_page)(uint64_t gfn);
    /* enso can honour MISC_FEATURES_ENABLES.CPUID_FAULTING (Xen: when the host can). */
    bool cpuid_faulting;
    const struct pv_cpuid_ctx *cpuid;
};

/* 0 = done (value in *val); -1 = the guest gets #GP (as Xen would). */
int pv_rdmsr(const struct pv_msr_ctx *ctx, struct pv_msr_vcpu *v, uint32_t msr, uint64_t *val);
int pv_wrmsr(const struct pv_msr_ctx *ctx, struct pv_msr_vcpu *v, uint32_t msr, uint64_t val);

#endif
