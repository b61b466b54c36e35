/*
 * Segment state of PV guests: the data selectors and the FS / GS bases.
 *
 * A selector is loaded only after `lar` has shown it to be a present, DPL-3 data or
 * readable code segment, so the load itself cannot fault (a fault here would run with
 * the guest's GS base when %gs is being changed). An LDT selector counts only while its
 * LDT page is mapped (pv/descriptors.c maps them lazily, on the guest's own loads).
 * Anything else loads the null selector, as Xen does when a guest selector turns out
 * bad, and then, as Xen does, the vCPU enters the guest's failsafe callback.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <asm/mm.h>
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

/*
 * Xen's failsafe callback. The frame goes where an exception's would (the interrupted
 * stack in kernel mode, kernel_sp from user mode, rounded down to 16), lowest address
 * first: rcx, r11, ds, es, fs, gs (the selectors as the guest had them), rip, cs (RPL
 * cleared in kernel mode) | saved upcall mask << 32, rflags (IF = !mask), rsp, ss.
 * Like Xen, enso enters the registered address even if it is 0.
 *
 * This runs in the middle of the context switch, with the guest's page tables loaded
 * but its GS bases not yet: the switch to kernel mode is done by hand (kernel_mode,
 * CR3), and load_guest_state then loads the kernel's GS base.
 */
static void failsafe_bounce(struct vcpu *v, const uint16_t sel[4])
{
    struct cpu_user_regs *regs = v->arch.regs;
    struct vcpu_info *vi = v->vcpu_info; /* none for a vCPU >= 32 not registered yet */
    uint8_t mask = vi ? vi->evtchn_upcall_mask : 1;
    uint64_t cs = regs->cs, sp, frame[11];

    if (v->arch.kernel_mode) {
        sp = regs->rsp;
        cs &= ~3UL;
    } else {
        v->arch.kernel_mode = true;
        write_cr3(mfn_x(pv_active_table(v)) << PAGE_SHIFT);
        sp = v->arch.kernel_sp;
    }
    sp = (sp & ~0xfUL) - sizeof(frame);
    frame[0] = regs->rcx;
    frame[1] = regs->r11;
    for (unsigned int i = 0; i < 4; i++)
        frame[2 + i] = sel[i];
    frame[6] = regs->rip;
    frame[7] = (cs & 0xffff) | ((uint64_t)mask << 32);
    frame[8] = (regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL)) | (mask ? 0 : X86_EFLAGS_IF);
    frame[9] = regs->rsp;
    frame[10] = regs->ss;
    if (copy_to_guest(sp, frame, sizeof(frame))) {
        domain_crash(v->domain, "cannot write the failsafe frame at %016lx", sp);
        return;
    }
    if (vi && v->arch.failsafe_masks_events)
        vi->evtchn_upcall_mask = 1;
    regs->rflags &= ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT |
                      X86_EFLAGS_IOPL | X86_EFLAGS_TF);
    regs->ss = FLAT_KERNEL_SS;
    regs->rsp = sp;
    regs->cs = FLAT_KERNEL_CS;
    regs->rip = v->arch.failsafe_cb;
}

/* Context switch: the data selectors, on the way to v (current, its CR3 and LDT loaded). */
void pv_load_data_selectors(struct vcpu *v)
{
    const uint16_t sel[4] = { v->arch.ds, v->arch.es, v->arch.fs, v->arch.gs };
    uint16_t ds = fix_selector(v, sel[0]), es = fix_selector(v, sel[1]);
    uint16_t fs = fix_selector(v, sel[2]), gs = fix_selector(v, sel[3]);

    __asm__ volatile("mov %0, %%ds" ::"r"(ds));
    __asm__ volatile("mov %0, %%es" ::"r"(es));
    __asm__ volatile("mov %0, %%fs" ::"r"(fs));
    v->arch.gs = gs;
    /* A selector nulled because it could not be loaded (null ones load as they are). */
    if ((!ds && (sel[0] & ~3)) || (!es && (sel[1] & ~3)) || (!fs && (sel[2] & ~3)) ||
        (!gs && (sel[3] & ~3)))
        failsafe_bounce(v, sel);
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
