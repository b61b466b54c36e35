/*
 * The glue between the emulator and enso's CPUID / MSR / control-register policy for
 * PV guests: which values a guest reads, which writes it may make.
 */
#include <enso/extable.h>
#include <enso/mm.h>
#include <enso/sched.h>
#include <enso/time.h>
#include <asm/boot.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_cpuid.h>
#include <asm/pv_mm.h>
#include <asm/pv_msr.h>
#include <asm/pv_build.h>
#include <asm/pv_policy.h>
#include <asm/xstate.h>


static void host_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    cpuid_count(leaf, subleaf, &r->a, &r->b, &r->c, &r->d);
}

static void cpuid_ctx(const struct vcpu *v, struct pv_cpuid_ctx *c)
{
    const struct domain *d = v->domain;

    *c = (struct pv_cpuid_ctx){
        .host = host_cpuid,
        .is_dom0 = d->domain_id == 0 && d->is_privileged,
        .vcpu_id = v->vcpu_id,
        .nr_vcpus = d->max_vcpus,
        .xen_major = 4,
        .xen_minor = 17,
        .tsc_khz = (uint32_t)tsc_khz,
        .xsave_available = xstate_enabled(),
        .guest_cr4_osxsave = v->arch.cr4_guest & X86_CR4_OSXSAVE,
        .kernel_mode = v->arch.kernel_mode,
        .max_page = max_page,
    };
}

void pv_guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    struct pv_cpuid_ctx c;
    struct cpuid_regs r;

    cpuid_ctx(v, &c);
    pv_cpuid(&c, leaf, subleaf, &r);
    out[0] = r.a;
    out[1] = r.b;
    out[2] = r.c;
    out[3] = r.d;
}

static int host_rdmsr(uint32_t msr, uint64_t *val)
{
    return rdmsr_safe(msr, val);
}

/* MSR 0x40000000: the guest names a frame for the hypercall page. The vCPU whose MSR
 * access is being emulated: per CPU, since several vCPUs may do that at once. */
static DEFINE_PER_CPU(struct vcpu *, msr_vcpu);

static int set_hypercall_page(uint64_t gfn)
{
    struct domain *d = this_cpu(msr_vcpu)->domain;

    if (gfn >= d->arch.p2m_size)
        return -1;
    pv_write_hypercall_page(mfn_to_virt(d->arch.p2m[gfn]));
    return 0;
}

/*
 * The policy works on a snapshot of the vCPU's MSR state: the live bases come from
 * the CPU (the guest's active GS base sits in MSR_KERNEL_GS_BASE while enso runs) and
 * whatever a write changed is loaded back.
 */
static int guest_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write)
{
    struct pv_cpuid_ctx cc;
    struct pv_msr_ctx mc = {
        .is_dom0 = v->domain->domain_id == 0 && v->domain->is_privileged,
        .host_rdmsr = host_rdmsr,
        .set_hypercall_page = set_hypercall_page,
        .cpuid = &cc,
    };
    struct pv_msr_vcpu *m = &v->arch.msr;
    uint64_t active;
    int rc;

    cpuid_ctx(v, &cc);
    m->fs_base = rdmsr(MSR_FS_BASE);
    active = rdmsr(MSR_KERNEL_GS_BASE);
    m->gs_base_kernel = v->arch.kernel_mode ? active : v->arch.gs_base_kernel;
    m->gs_base_user = v->arch.kernel_mode ? v->arch.gs_base_user : active;
    m->kernel_mode = v->arch.kernel_mode;
    m->has_gp_handler = v->arch.trap[13].address != 0;
    this_cpu(msr_vcpu) = v;
    rc = write ? pv_wrmsr(&mc, m, msr, *val) : pv_rdmsr(&mc, m, msr, val);
    if (write && !rc) {
        wrmsr(MSR_FS_BASE, m->fs_base);
        v->arch.gs_base_kernel = m->gs_base_kernel;
        v->arch.gs_base_user = m->gs_base_user;
        wrmsr(MSR_KERNEL_GS_BASE, v->arch.kernel_mode ? m->gs_base_kernel : m->gs_base_user);
    }
    return rc;
}

int pv_guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    return guest_msr(v, msr, val, false);
}

int pv_guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    return guest_msr(v, msr, &val, true);
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
        *val = (read_cr4() & (X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)) |
               v->arch.cr4_guest;
        return 0;
    }
    return -1;
}

int pv_guest_write_cr(struct vcpu *v, unsigned int cr, uint64_t val)
{
    uint64_t cur;

    if (cr == 3)
        return pv_new_baseptr(v, val >> PAGE_SHIFT, !v->arch.kernel_mode) ? -1 : 0;
    if (cr == 4) {
        /*
         * As on Xen, never a fault: the guest keeps the bits it controls and the rest
         * of what it writes is ignored. Of Xen's guest bits enso has only OSXSAVE so
         * far (not TSD, DE, FSGSBASE), and that one only where XSAVE is offered.
         */
        v->arch.cr4_guest = val & (xstate_enabled() ? X86_CR4_OSXSAVE : 0);
        return 0;
    }
    if (cr != 0 || pv_guest_read_cr(v, 0, &cur) || ((cur ^ val) & ~(uint64_t)X86_CR0_TS))
        return -1;
    v->arch.fpu_ts = val & X86_CR0_TS;
    if (v->arch.fpu_ts)
        stts();
    else
        clts();
    return 0;
}
