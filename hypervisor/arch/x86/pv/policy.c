/*
 * The glue between the emulator and enso's CPUID / MSR / control-register policy for
 * PV guests: which values a guest reads, which writes it may make.
 */
#include <enso/sched.h>
#include <asm/boot.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <asm/pv_policy.h>

#define MSR_EFER 0xc0000080

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Interim policy: host leaves with virtualisation features hidden, Xen's leaves added. */
void pv_guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    if (leaf >= 0x40000000 && leaf < 0x40010000) {
        out[0] = out[1] = out[2] = out[3] = 0;
        if (leaf == 0x40000000) {
            out[0] = 0x40000005;
            out[1] = 0x566e6558; /* "XenVMMXenVMM" */
            out[2] = 0x65584d4d;
            out[3] = 0x4d4d566e;
        } else if (leaf == 0x40000001) {
            out[0] = (4 << 16) | 17;
        } else if (leaf == 0x40000002) {
            out[0] = 1;
            out[1] = 0x40000000;
        }
        return;
    }
    cpuid_count(leaf, subleaf, &out[0], &out[1], &out[2], &out[3]);
    if (leaf == 1) {
        /* VMX, MONITOR, x2APIC, TSC-deadline, XSAVE, OSXSAVE, AVX, PCID hidden. */
        out[2] &= ~((1U << 5) | (1U << 3) | (1U << 21) | (1U << 24) | (1U << 26) |
                    (1U << 27) | (1U << 28) | (1U << 17));
        out[2] |= 1U << 31; /* running on a hypervisor */
    } else if (leaf == 0x80000001) {
        out[2] &= ~(1U << 2); /* SVM */
    }
}

int pv_guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    switch (msr) {
    case MSR_FS_BASE:
        *val = rdmsr(MSR_FS_BASE);
        return 0;
    case MSR_GS_BASE: /* the guest's active base is in the swapped slot while enso runs */
        *val = rdmsr(MSR_KERNEL_GS_BASE);
        return 0;
    case MSR_KERNEL_GS_BASE:
        *val = v->arch.kernel_mode ? v->arch.gs_base_user : v->arch.gs_base_kernel;
        return 0;
    case MSR_EFER:
        *val = rdmsr(MSR_EFER);
        return 0;
    }
    return -1;
}

int pv_guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    switch (msr) {
    case MSR_FS_BASE:
        if (!is_canonical(val))
            return -1;
        wrmsr(MSR_FS_BASE, val);
        return 0;
    case MSR_GS_BASE:
        if (!is_canonical(val))
            return -1;
        wrmsr(MSR_KERNEL_GS_BASE, val);
        if (v->arch.kernel_mode)
            v->arch.gs_base_kernel = val;
        else
            v->arch.gs_base_user = val;
        return 0;
    case MSR_EFER:
        /* A write that changes nothing is accepted, as on Xen. */
        return val == rdmsr(MSR_EFER) ? 0 : -1;
    case MSR_KERNEL_GS_BASE:
        if (!is_canonical(val))
            return -1;
        if (v->arch.kernel_mode)
            v->arch.gs_base_user = val;
        else
            v->arch.gs_base_kernel = val;
        return 0;
    }
    return -1;
}

int pv_guest_read_cr(struct vcpu *v, unsigned int cr, uint64_t *val)
{
    switch (cr) {
    case 0:
        *val = (read_cr0() & ~(uint64_t)X86_CR0_TS) | (v->arch.fpu_ts ? X86_CR0_TS : 0);
        return 0;
    case 2:
        *val = v->vcpu_info->arch.cr2;
        return 0;
    case 3:
        *val = mfn_x(pv_active_table(v)) << PAGE_SHIFT;
        return 0;
    case 4:
        *val = read_cr4() & (X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
        return 0;
    }
    return -1;
}

int pv_guest_write_cr(struct vcpu *v, unsigned int cr, uint64_t val)
{
    uint64_t cur;

    if (cr == 3)
        return pv_new_baseptr(v, val >> PAGE_SHIFT, !v->arch.kernel_mode) ? -1 : 0;
    if (cr != 0 || pv_guest_read_cr(v, 0, &cur) || ((cur ^ val) & ~(uint64_t)X86_CR0_TS))
        return -1;
    v->arch.fpu_ts = val & X86_CR0_TS;
    if (v->arch.fpu_ts)
        stts();
    else
        clts();
    return 0;
}
