/*
 * Segment state of PV guests: the data selectors and the FS / GS bases.
 *
 * A selector is loaded only after `lar` has shown it to be a present, DPL-3 data or
 * readable code segment, so the load itself cannot fault (a fault here would run with
 * the guest's GS base when %gs is being changed). An LDT selector counts only while its
 * LDT page is mapped (pv/descriptors.c maps them lazily, on the guest's own loads).
 * Anything else loads the null selector, as Xen does when a guest selector turns out bad.
 */
#include <enso/errno.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <public/xen.h>

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool data_selector_ok(const struct vcpu *v, uint16_t sel)
{
    uint32_t ar;
    bool ok;

    if (!(sel & ~3))
        return true;
    if ((sel & 4) && !pv_ldt_selector_mapped(v, sel))
        return false; /* its LDT page is not mapped (yet): lar itself would fault */
    __asm__("lar %2, %1; setz %0" : "=qm"(ok), "=r"(ar) : "r"((uint32_t)sel) : "cc");
    if (!ok || !(ar & (1U << 15)) || !(ar & (1U << 12)) || ((ar >> 13) & 3) != 3)
        return false;
    /* Data segments are fine; code segments only if readable. */
    return !(ar & (1U << 11)) || (ar & (1U << 9));
}

static uint16_t fix_selector(const struct vcpu *v, uint16_t sel)
{
    if (sel & ~3)
        sel |= 3;
    return data_selector_ok(v, sel) ? sel : 0;
}

void pv_load_data_selectors(struct vcpu *v)
{
    uint16_t ds = fix_selector(v, v->arch.ds), es = fix_selector(v, v->arch.es);
    uint16_t fs = fix_selector(v, v->arch.fs);

    __asm__ volatile("mov %0, %%ds" ::"r"(ds));
    __asm__ volatile("mov %0, %%es" ::"r"(es));
    __asm__ volatile("mov %0, %%fs" ::"r"(fs));
    v->arch.gs = fix_selector(v, v->arch.gs);
}

/*
 * SEGBASE_GS_USER_SEL: load the user %gs selector and take its base as the user GS base,
 * without disturbing the kernel's active GS base. Interrupts are off while the bases are
 * swapped: nothing may use per-CPU data in between.
 */
static void load_user_gs_selector(struct vcpu *v, uint16_t sel)
{
    unsigned long flags = local_irq_save();
    uint64_t kernel_base, user_base;

    sel = fix_selector(v, sel);
    __asm__ volatile("swapgs" ::: "memory");
    kernel_base = rdmsr(MSR_GS_BASE);
    __asm__ volatile("mov %0, %%gs" ::"r"(sel) : "memory");
    user_base = rdmsr(MSR_GS_BASE);
    wrmsr(MSR_GS_BASE, kernel_base);
    __asm__ volatile("swapgs" ::: "memory");
    v->arch.gs = sel;
    v->arch.gs_base_user = user_base;
    local_irq_restore(flags);
}

long do_set_segment_base(hc_arg_t which, hc_arg_t base)
{
    struct vcpu *v = current;

    switch ((unsigned int)which) {
    case SEGBASE_FS:
        if (!is_canonical(base))
            return -EINVAL;
        wrmsr(MSR_FS_BASE, base);
        return 0;
    case SEGBASE_GS_USER:
        if (!is_canonical(base))
            return -EINVAL;
        v->arch.gs_base_user = base;
        return 0;
    case SEGBASE_GS_KERNEL:
        if (!is_canonical(base))
            return -EINVAL;
        /* Hypercalls come from kernel mode: the kernel base is the active one. */
        wrmsr(MSR_KERNEL_GS_BASE, base);
        v->arch.gs_base_kernel = base;
        return 0;
    case SEGBASE_GS_USER_SEL:
        load_user_gs_selector(v, (uint16_t)base);
        return 0;
    default:
        return -EINVAL;
    }
}
