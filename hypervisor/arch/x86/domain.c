/*
 * The x86 side of domains and vCPUs: the per-domain area, vCPU stacks and the context
 * switch.
 *
 * While a PV vCPU runs, the CPU holds its state: CR3 (kernel or user L4), the GDT window
 * of the vCPU, data selectors, FS base, the guest's active GS base (in MSR_KERNEL_GS_BASE
 * while enso runs, swapped in on the way out), FPU/SSE/AVX registers, XCR0 and CR0.TS.
 * The context switch saves that into struct arch_vcpu and loads the next vCPU's.
 */
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/xmalloc.h>
#include <asm/boot.h>
#include <asm/desc.h>
#include <asm/mm.h>
#include <asm/processor.h>
#include <asm/time.h>
#include <asm/tlb_clock.h>
#include <asm/pv.h>
#include <asm/xstate.h>
#include <asm/pv_desc.h>
#include <asm/pv_vcpu.h>

/* Switch enso stacks: saves callee-saved registers and rsp in *save, resumes next. */
void switch_stacks(uint64_t *save, uint64_t next_rsp);
/* Where a vCPU's first switch-in lands: goes straight to the guest. */
extern char vcpu_first_entry[];

static void *zero_page;

/* What every domain shares, allocated once for good before the first one. */
int arch_domains_init(void)
{
    if (!zero_page)
        zero_page = alloc_xenheap_pages(0, 0);
    return zero_page ? 0 : -ENOMEM;
}

int arch_domain_create(struct domain *d)
{
    if (arch_domains_init())
        return -ENOMEM;
    d->arch.perdomain_l3 = alloc_xenheap_pages(0, 0);
    d->arch.perdomain_l2 = alloc_xenheap_pages(0, 0);
    if (!d->arch.perdomain_l3 || !d->arch.perdomain_l2) {
        arch_domain_destroy(d);
        return -ENOMEM;
    }
    d->arch.perdomain_l3[0] = pte_make(virt_to_maddr(d->arch.perdomain_l2), PTE_TABLE);
    return 0;
}

void arch_domain_destroy(struct domain *d)
{
    if (d->arch.perdomain_l3)
        free_xenheap_pages(d->arch.perdomain_l3, 0);
    if (d->arch.perdomain_l2)
        free_xenheap_pages(d->arch.perdomain_l2, 0);
    if (d->arch.p2m)
        xfree(d->arch.p2m);
    if (d->shared_info) {
        struct page_info *pg = virt_to_page(d->shared_info);
        pg->u.owner = NULL;
        pg->count_info &= ~PGC_count_mask;
        free_xenheap_pages(d->shared_info, 0);
        d->shared_info = NULL;
    }
    d->arch.perdomain_l3 = d->arch.perdomain_l2 = NULL;
}

pgentry_t gdt_window_zero_entry(void)
{
    return pte_make(virt_to_maddr(zero_page), _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX);
}

/* The GDT window: guest frames read as zero until set_gdt gives real ones. */
static int map_gdt_window(struct vcpu *v)
{
    pgentry_t *l1 = alloc_xenheap_pages(0, 0);

    if (!l1)
        return -ENOMEM;
    for (unsigned int i = 0; i < GDT_GUEST_FRAMES; i++)
        l1[i] = gdt_window_zero_entry();
    v->arch.perdomain_l1 = l1;
    v->domain->arch.perdomain_l2[v->vcpu_id] = pte_make(virt_to_maddr(l1), PTE_TABLE);
    v->arch.gdt_va = PERDOMAIN_VIRT_START + v->vcpu_id * PERDOMAIN_VCPU_STRIDE;
    return 0;
}

int arch_vcpu_create(struct vcpu *v)
{
    uint64_t *frame;

    v->stack = alloc_xenheap_pages(STACK_ORDER, 0);
    if (!v->stack)
        return -ENOMEM;
    if (map_gdt_window(v)) {
        free_xenheap_pages(v->stack, STACK_ORDER);
        return -ENOMEM;
    }
    if (vcpu_fpu_init(v)) {
        arch_vcpu_destroy(v);
        return -ENOMEM;
    }
    v->arch.regs = (struct cpu_user_regs *)((char *)v->stack + STACK_SIZE) - 1;
    v->arch.kernel_mode = true;
    v->arch.guest_table = INVALID_MFN;
    v->arch.guest_table_user = INVALID_MFN;
    v->arch.dr[6] = 0xffff0ff0; /* the reserved bits read as the CPU defines them */
    v->arch.dr[7] = 0x400;
    /* What switch_stacks pops: six callee-saved registers, then the return address. */
    frame = (uint64_t *)v->arch.regs - 7;
    memset(frame, 0, 6 * sizeof(*frame));
    frame[6] = (uint64_t)vcpu_first_entry;
    v->saved_rsp = (uint64_t)frame;
    return 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
    if (v->arch.perdomain_l1) {
        v->domain->arch.perdomain_l2[v->vcpu_id] = 0;
        free_xenheap_pages(v->arch.perdomain_l1, 0);
    }
    if (v->stack)
        free_xenheap_pages(v->stack, STACK_ORDER);
    vcpu_fpu_free(v);
}

static void save_guest_state(struct vcpu *v)
{
    uint16_t sel;

    __asm__ volatile("mov %%ds, %0" : "=r"(sel));
    v->arch.ds = sel;
    __asm__ volatile("mov %%es, %0" : "=r"(sel));
    v->arch.es = sel;
    __asm__ volatile("mov %%fs, %0" : "=r"(sel));
    v->arch.fs = sel;
    __asm__ volatile("mov %%gs, %0" : "=r"(sel));
    v->arch.gs = sel;
    v->arch.fs_base = rdmsr(MSR_FS_BASE);
    if (v->arch.kernel_mode)
        v->arch.gs_base_kernel = rdmsr(MSR_KERNEL_GS_BASE);
    else
        v->arch.gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
    vcpu_fpu_save(v);
    pv_debugregs_switch(v, NULL);
}

/*
 * Loading a selector into %gs overwrites the GS base, which is enso's per-CPU pointer:
 * do it with the bases swapped, so the load lands on the guest's side.
 */
static void load_gs_selector(uint16_t sel)
{
    __asm__ volatile("swapgs; mov %0, %%gs; swapgs" ::"r"(sel) : "memory");
}

/*
 * The domain whose translations this CPU's TLB may hold (global ones included): the
 * one it last ran, idle or not. flush_domain_tlbs flushes every CPU marked with the
 * domain, so a vCPU that comes back to a CPU after others of its domain changed
 * mappings finds no stale entry there.
 */
static DEFINE_PER_CPU(struct domain *, tlb_domain);

bool cpu_tlb_may_hold(unsigned int cpu, const struct domain *d)
{
    return __atomic_load_n(&per_cpu(tlb_domain, cpu), __ATOMIC_SEQ_CST) == d;
}

static void load_guest_state(struct vcpu *v)
{
    pgentry_t *gdt_slot = &v->arch.perdomain_l1[GDT_GUEST_FRAMES];
    pgentry_t gdt_pte = pte_make(mfn_x(cpu_gdt_mfn(smp_processor_id())) << PAGE_SHIFT,
                                 _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY |
                                     _PAGE_NX);
    bool other_domain = this_cpu(tlb_domain) != v->domain;

    if (*gdt_slot != gdt_pte)
        *gdt_slot = gdt_pte; /* the CR3 write below flushes any stale translation */
    /* Marked before the CR3 load: a flush that misses the mark was done before this
     * CPU could cache anything of the domain. */
    if (other_domain)
        __atomic_store_n(&this_cpu(tlb_domain), v->domain, __ATOMIC_SEQ_CST);
    load_cr3_noted(mfn_x(pv_active_table(v)) << PAGE_SHIFT);
    if (other_domain)
        flush_tlb_local(); /* another domain's global entries must not survive */
    load_gdt_window(v->arch.gdt_va);
    pv_load_ldt(v);
    tss_set_rsp0((uint64_t)(v->arch.regs + 1));
    this_cpu(cpu_info).stack_top = (uint64_t)(v->arch.regs + 1);

    pv_load_data_selectors(v);
    wrmsr(MSR_FS_BASE, v->arch.fs_base);
    load_gs_selector(v->arch.gs);
    wrmsr(MSR_KERNEL_GS_BASE, v->arch.kernel_mode ? v->arch.gs_base_kernel
                                                  : v->arch.gs_base_user);
    vcpu_fpu_restore(v);
    if (v->arch.fpu_ts)
        stts();
    pv_debugregs_switch(NULL, v);
}

/* The vCPU this CPU is switching away from, until it runs on the next one's stack. */
static DEFINE_PER_CPU(struct vcpu *, switching_from);

/* On the new vCPU's stack: the previous one's stack and state are free for others. */
void context_switch_done(void)
{
    struct vcpu *prev = this_cpu(switching_from);

    if (prev)
        __atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
    this_cpu(switching_from) = NULL;
    sched_switch_done(prev, current);
}

void context_switch(struct vcpu *prev, struct vcpu *next)
{
    unsigned long flags = local_irq_save();

    next->on_cpu = true;
    this_cpu(switching_from) = prev;
    if (!is_idle_vcpu(prev))
        save_guest_state(prev);
    if (!is_idle_vcpu(next)) {
        if (next->vcpu_info)
            time_update_vcpu_info(&next->vcpu_info->time);
        load_guest_state(next);
    } else {
        load_cr3_noted(image_to_maddr(idle_l4));
        load_enso_gdt();
        clts();
    }
    switch_stacks(&prev->saved_rsp, next->saved_rsp);
    context_switch_done();
    local_irq_restore(flags);
}
