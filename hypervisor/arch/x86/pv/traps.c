/*
 * Exceptions of PV guests, and the way back to them.
 *
 * A guest exception is "bounced": enso writes an exception frame on the guest kernel
 * stack and resumes the guest at the handler from its trap table, as the CPU would for
 * a native kernel. The frame, lowest address first, is
 *     rcx, r11, [error code], rip, cs | saved_upcall_mask << 32, rflags, rsp, ss
 * (the guest pops rcx and r11 and is left with a hardware-shaped frame). From guest user
 * mode the vCPU first switches to kernel mode and the frame goes on kernel_sp; in kernel
 * mode it goes below the interrupted rsp and the saved cs has RPL 0, which is how the
 * guest tells the two apart. rflags.IF in the frame is the inverse of the event mask.
 */
#include <enso/guest_access.h>
#include <enso/keyhandler.h>
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <asm/desc.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>

/* Vectors for which the CPU pushes an error code. */
#define VECTORS_WITH_EC ((1U << 8) | (1U << 10) | (1U << 11) | (1U << 12) | (1U << 13) | \
                         (1U << 14) | (1U << 17) | (1U << 21) | (1U << 29) | (1U << 30))

mfn_t pv_active_table(const struct vcpu *v)
{
    if (!v->arch.kernel_mode && !mfn_eq(v->arch.guest_table_user, INVALID_MFN))
        return v->arch.guest_table_user;
    return v->arch.guest_table;
}

/*
 * The guest's active GS base lives in MSR_KERNEL_GS_BASE while enso runs; the inactive
 * one only in struct arch_vcpu. Interrupts stay off so a context switch cannot see the
 * two halves disagree.
 */
void pv_toggle_mode(struct vcpu *v)
{
    unsigned long flags = local_irq_save();

    if (v->arch.kernel_mode)
        v->arch.gs_base_kernel = rdmsr(MSR_KERNEL_GS_BASE);
    else
        v->arch.gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
    v->arch.kernel_mode = !v->arch.kernel_mode;
    wrmsr(MSR_KERNEL_GS_BASE, v->arch.kernel_mode ? v->arch.gs_base_kernel
                                                  : v->arch.gs_base_user);
    write_cr3(mfn_x(pv_active_table(v)) << PAGE_SHIFT);
    local_irq_restore(flags);
    if (v->arch.kernel_mode)
        vcpu_areas_kernel_entry(v);
}

/* The guest's page-table entries for va, level by level (a debugging aid). */
static void dump_walk(mfn_t table, uint64_t va)
{
    char line[160];
    int n = snprintf(line, sizeof(line), "  walk %016lx:", va);

    for (unsigned int level = 4; level >= 1 && mfn_valid(table); level--) {
        pgentry_t e = ((const pgentry_t *)mfn_to_virt(table))[(va >> (12 + 9 * (level - 1))) & 511];

        n += snprintf(line + n, sizeof(line) - (size_t)n, " L%u %lx", level, e);
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE) || n >= (int)sizeof(line) - 24)
            break;
        table = _mfn(pte_paddr(e) >> PAGE_SHIFT);
    }
    printk("%s\n", line);
}

/* The bytes at the guest's rip, when they can be read. */
static void dump_code(uint64_t rip)
{
    uint8_t code[16];

    if (copy_from_guest(code, rip, sizeof(code)))
        return;
    printk("  code at rip: %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x\n",
           code[0], code[1], code[2], code[3], code[4], code[5], code[6], code[7], code[8],
           code[9], code[10], code[11]);
}

/* A guest's registers, for the console when enso is about to kill it. */
void pv_dump_guest_state(const struct vcpu *v, const struct cpu_user_regs *regs)
{
    printk("d%u v%u rip %04lx:%016lx rflags %08lx %s mode\n", v->domain->domain_id, v->vcpu_id,
           regs->cs, regs->rip, regs->rflags, v->arch.kernel_mode ? "kernel" : "user");
    printk("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", regs->rax, regs->rbx, regs->rcx,
           regs->rdx);
    printk("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", regs->rsi, regs->rdi, regs->rbp,
           regs->rsp);
    printk("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", regs->r8, regs->r9, regs->r10,
           regs->r11);
    printk("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", regs->r12, regs->r13, regs->r14,
           regs->r15);
    printk("  cr2 %016lx cr3 %lx\n", v->vcpu_info ? v->vcpu_info->arch.cr2 : 0,
           mfn_x(pv_active_table(v)) << PAGE_SHIFT);
    if (v == current)
        dump_code(regs->rip);
    if (v->vcpu_info)
        dump_walk(pv_active_table(v), v->vcpu_info->arch.cr2);
}

/* vector: for messages only (VECTOR_SYSCALL for a system call, VECTOR_EVENT_UPCALL
 * for an event). */
#define VECTOR_EVENT_UPCALL 0x101
static void bounce(struct cpu_user_regs *regs, uint64_t handler, bool mask_events,
                   long error_code, unsigned int vector)
{
    struct vcpu *v = current;
    struct vcpu_info *vi = v->vcpu_info;
    uint64_t frame[8], sp, cs = regs->cs;
    unsigned int n = 0;
    uint8_t saved_mask;

    if (!handler) {
        pv_dump_guest_state(v, regs);
        domain_crash(v->domain, "vector %#x (error %ld, cr2 %#lx) at %04lx:%016lx with no "
                     "guest handler", vector, error_code, vi->arch.cr2, regs->cs, regs->rip);
        return;
    }
    if (!v->arch.kernel_mode) {
        pv_toggle_mode(v);
        sp = v->arch.kernel_sp;
    } else {
        sp = regs->rsp;
        cs &= ~3UL;
    }
    sp &= ~0xfUL;
    saved_mask = vi->evtchn_upcall_mask;
    if (mask_events)
        vi->evtchn_upcall_mask = 1;

    frame[n++] = regs->rcx;
    frame[n++] = regs->r11;
    if (error_code >= 0)
        frame[n++] = (uint32_t)error_code;
    frame[n++] = regs->rip;
    frame[n++] = (cs & 0xffff) | ((uint64_t)saved_mask << 32);
    frame[n++] = (regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL)) |
                 (saved_mask ? 0 : X86_EFLAGS_IF);
    frame[n++] = regs->rsp;
    frame[n++] = regs->ss;
    sp -= n * sizeof(uint64_t);
    if (copy_to_guest(sp, frame, n * sizeof(uint64_t))) {
        domain_crash(v->domain, "cannot write the frame for vector %#x at %016lx (stack %016lx)",
                     vector, regs->rip, sp);
        return;
    }
    regs->rflags &= ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT |
                      X86_EFLAGS_TF);
    regs->ss = FLAT_KERNEL_SS;
    regs->rsp = sp;
    regs->cs = FLAT_KERNEL_CS;
    regs->rip = handler;
}

void pv_inject_exception(struct cpu_user_regs *regs, unsigned int vector, long error_code)
{
    const struct pv_trap *t = &current->arch.trap[vector & 0xff];

    bounce(regs, t->address, t->flags & TI_MASK_EVENTS, error_code, vector);
}

void pv_inject_page_fault(struct cpu_user_regs *regs, uint64_t cr2, uint32_t error_code)
{
    struct vcpu *v = current;

    /* The guest kernel runs in ring 3, so the CPU always sets the user bit: fix it. */
    error_code &= ~PFEC_user;
    if (!v->arch.kernel_mode)
        error_code |= PFEC_user;
    v->vcpu_info->arch.cr2 = cr2;
    pv_inject_exception(regs, 14, error_code);
}

/* A refused `int $n`: the vector comes from the instruction (QEMU misreports it). */
static bool software_interrupt(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;
    uint8_t insn[2];
    const struct pv_trap *t;

    if ((regs->error_code & 3) != 2 || copy_from_guest(insn, regs->rip, 2) || insn[0] != 0xcd)
        return false;
    t = &v->arch.trap[insn[1]];
    if ((t->flags & TI_DPL_MASK) < (v->arch.kernel_mode ? 1 : 3)) {
        regs->error_code = (uint64_t)insn[1] * 8 + 2; /* what hardware reports */
        return false;
    }
    regs->rip += 2;
    pv_inject_exception(regs, insn[1], -1);
    return true;
}

/*
 * int $0x80 reaches enso through a DPL-3 gate. With a handler registered the guest gets
 * it whatever the handler's DPL (as on Xen); without one it is the #GP a DPL-0 gate
 * would have raised.
 */
void pv_int80(struct cpu_user_regs *regs)
{
    const struct pv_trap *t = &current->arch.trap[0x80];

    if (t->address) {
        pv_inject_exception(regs, 0x80, -1);
        return;
    }
    regs->rip -= 2;
    pv_inject_exception(regs, 13, 0x80 * 8 + 2);
}

static void device_not_available(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;

    clts();
    if (v->arch.fpu_ts) {
        /* As on Xen, delivering #NM clears the guest's virtual TS. */
        v->arch.fpu_ts = false;
        pv_inject_exception(regs, 7, -1);
    }
}

void pv_guest_exception(struct cpu_user_regs *regs, uint64_t cr2)
{
    unsigned int vec = (unsigned int)regs->vector;

    switch (vec) {
    case 14:
        if (pv_ptwr_fault(regs, cr2, (uint32_t)regs->error_code))
            return;
        if (pv_ldt_page_fault(regs, cr2))
            return;
        if (pv_emulate_qemu_iret(regs, (uint32_t)regs->error_code))
            return;
        pv_inject_page_fault(regs, cr2, (uint32_t)regs->error_code);
        return;
    case 13:
        if (software_interrupt(regs))
            return;
        if (regs->error_code == 0 && pv_emulate_privileged(regs))
            return;
        pv_inject_exception(regs, 13, (long)regs->error_code);
        return;
    case 6:
        if (pv_emulate_forced_cpuid(regs))
            return;
        break;
    case 7:
        device_not_available(regs);
        return;
    }
    pv_inject_exception(regs, vec, (VECTORS_WITH_EC >> vec) & 1 ? (long)regs->error_code : -1);
}

/*
 * The frame must be one iretq cannot fault on: between the final swapgs and iretq a
 * fault would run enso's handler with the guest's GS base. So rip must be canonical
 * and cs/ss are enso's flat ring-3 selectors (the only ones a 64-bit PV guest uses).
 */
static void sanitize_frame(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;
    uint64_t rip = regs->rip;

    if ((uint64_t)((int64_t)(rip << 16) >> 16) != rip) {
        domain_crash(v->domain, "return to non-canonical rip %016lx", rip);
        return;
    }
    if (regs->cs != FLAT_RING3_CS64 && regs->cs != FLAT_RING3_CS32)
        regs->cs = FLAT_RING3_CS64;
    regs->ss = FLAT_RING3_SS64;
    regs->rflags = (regs->rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM | X86_EFLAGS_NT)) |
                   X86_EFLAGS_IF | 2;
}

/*
 * A pending, unmasked event enters the guest's event callback with events masked, in
 * the frame of an interrupt (no error code), as Xen does on every return to a guest.
 * Xen crashes a domain that has none registered; so does enso.
 */
static void event_upcall(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;

    if (!v->arch.event_cb) {
        domain_crash(v->domain, "event upcall at %016lx with no event callback", regs->rip);
        return;
    }
    bounce(regs, v->arch.event_cb, true, -1, VECTOR_EVENT_UPCALL);
}

/*
 * VCPUOP_send_nmi: the guest's NMI goes through trap 2 (set_trap_table, or
 * CALLBACKTYPE_nmi) and masks further NMIs until the guest's next iret. Without a
 * handler it is dropped, as on Xen.
 */
static bool nmi_due(const struct vcpu *v)
{
    return READ_ONCE(v->nmi_pending) && !READ_ONCE(v->nmi_masked);
}

static void deliver_nmi(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;

    if (!__atomic_exchange_n(&v->nmi_pending, false, __ATOMIC_SEQ_CST) ||
        !v->arch.trap[2].address)
        return;
    v->nmi_masked = true;
    pv_inject_exception(regs, 2, -1);
}

/* The vCPU may resume on another CPU after a softirq switched it out: no CPU number
 * is kept across one. */
void pv_exit_work(struct cpu_user_regs *regs)
{
    for (;;) {
        local_irq_disable();
        if (softirq_pending(smp_processor_id())) {
            local_irq_enable();
            do_softirq();
            continue;
        }
        if (current->domain->state != DOMST_running) {
            /* Shut down but not yet switched away: let the scheduler do it. */
            raise_softirq(SCHEDULE_SOFTIRQ);
            continue;
        }
        /* As on Xen, an NMI goes before events. */
        if (nmi_due(current)) {
            local_irq_enable();
            deliver_nmi(regs);
            continue;
        }
        if (events_need_delivery(current->vcpu_info)) {
            local_irq_enable();
            event_upcall(regs);
            continue;
        }
        local_irq_enable();
        sanitize_frame(regs);
        local_irq_disable();
        /* An event sent while interrupts were on is delivered before we leave. */
        if (current->domain->state == DOMST_running && !nmi_due(current) &&
            !events_need_delivery(current->vcpu_info))
            break;
    }
}

/* SYSCALL from guest user mode goes to the guest kernel's syscall callback. */
static void user_syscall(struct cpu_user_regs *regs, uint64_t callback)
{
    struct vcpu *v = current;

    if (!callback) {
        /* As on Xen: no callback registered means #UD at the syscall instruction. */
        regs->rip -= 2;
        pv_inject_exception(regs, 6, -1);
        return;
    }
    bounce(regs, callback, v->arch.syscall_masks_events, -1, VECTOR_SYSCALL);
    regs->rflags &= ~X86_EFLAGS_DF;
}

void pv_syscall(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;

    if (v->arch.kernel_mode)
        pv_hypercall(regs);
    else
        user_syscall(regs, v->arch.syscall_cb);
}

void pv_syscall32(struct cpu_user_regs *regs)
{
    struct vcpu *v = current;

    if (v->arch.kernel_mode) {
        regs->rip -= 2;
        pv_inject_exception(regs, 6, -1);
    } else {
        user_syscall(regs, v->arch.syscall32_cb);
    }
}

void arch_dump_vcpu_state(struct vcpu *v)
{
    pv_dump_guest_state(v, v->arch.regs);
}

/* Debug key: every guest vCPU's registers (a vCPU running elsewhere shows its last exit). */
static void dump_guest_registers(char key)
{
    struct domain *d;

    printk("'%c' pressed -> guest registers\n", key);
    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list)
        for (unsigned int i = 0; i < d->max_vcpus; i++)
            if (d->vcpu[i] && d->state == DOMST_running)
                pv_dump_guest_state(d->vcpu[i], d->vcpu[i]->arch.regs);
    spin_unlock(&domain_list_lock);
}
register_keyhandler('g', dump_guest_registers, "show guest vCPUs' registers");
