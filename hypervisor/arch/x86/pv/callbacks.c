/*
 * How a PV guest tells enso where its handlers are, and how it returns from them:
 * set_trap_table (the virtual IDT), set_callbacks / callback_op (event, failsafe,
 * syscall entry points), stack_switch (the kernel stack for bounces from user mode),
 * iret, fpu_taskswitch (virtual CR0.TS) and the debug registers. Semantics and errnos
 * follow Xen 4.17's.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <asm/layout.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <public/callback.h>

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

long do_set_trap_table(hc_arg_t traps)
{
    struct vcpu *v = current;
    struct trap_info ti;

    if (!traps) {
        memset(v->arch.trap, 0, sizeof(v->arch.trap));
        return 0;
    }
    for (;;) {
        if (copy_from_guest(&ti, traps, sizeof(ti)))
            return -EFAULT;
        if (!ti.address)
            return 0;
        if (!is_canonical(ti.address))
            return -EINVAL;
        v->arch.trap[ti.vector] = (struct pv_trap){
            .address = ti.address, .flags = ti.flags, .cs = FLAT_KERNEL_CS,
        };
        traps += sizeof(ti);
        if (hypercall_preempt_check()) {
            hypercall_args()[0] = traps;
            return -ERESTART;
        }
    }
}

static long register_callback(const struct callback_register *reg)
{
    struct vcpu *v = current;
    bool mask = reg->flags & CALLBACKF_mask_events;

    if (!is_canonical(reg->address))
        return -EINVAL;
    switch (reg->type) {
    case CALLBACKTYPE_event:
        v->arch.event_cb = reg->address;
        return 0;
    case CALLBACKTYPE_failsafe:
        v->arch.failsafe_cb = reg->address;
        v->arch.failsafe_masks_events = mask;
        return 0;
    case CALLBACKTYPE_syscall:
        v->arch.syscall_cb = reg->address;
        v->arch.syscall_masks_events = mask;
        return 0;
    case CALLBACKTYPE_syscall32:
        v->arch.syscall32_cb = reg->address;
        return 0;
    case CALLBACKTYPE_sysenter:
        v->arch.sysenter_cb = reg->address;
        return 0;
    case CALLBACKTYPE_nmi:
        v->arch.trap[2] = (struct pv_trap){
            .address = reg->address, .flags = TI_MASK_EVENTS, .cs = FLAT_KERNEL_CS,
        };
        return 0;
    default:
        return -ENOSYS;
    }
}

long do_callback_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case CALLBACKOP_register: {
        struct callback_register reg;
        if (copy_from_guest(&reg, arg, sizeof(reg)))
            return -EFAULT;
        return register_callback(&reg);
    }
    case CALLBACKOP_unregister: {
        struct callback_unregister unreg;
        if (copy_from_guest(&unreg, arg, sizeof(unreg)))
            return -EFAULT;
        switch (unreg.type) {
        case CALLBACKTYPE_event:
        case CALLBACKTYPE_failsafe:
        case CALLBACKTYPE_syscall:
        case CALLBACKTYPE_syscall32:
        case CALLBACKTYPE_sysenter:
            return -EINVAL;
        case CALLBACKTYPE_nmi:
            memset(&current->arch.trap[2], 0, sizeof(current->arch.trap[2]));
            return 0;
        default:
            return -ENOSYS;
        }
    }
    default:
        return -ENOSYS;
    }
}

/* The old form: three addresses at once, errors ignored as Xen does. */
long do_set_callbacks(hc_arg_t event, hc_arg_t failsafe, hc_arg_t syscall)
{
    struct callback_register r = { .type = CALLBACKTYPE_event, .address = event };

    register_callback(&r);
    r = (struct callback_register){ .type = CALLBACKTYPE_failsafe, .address = failsafe };
    register_callback(&r);
    r = (struct callback_register){ .type = CALLBACKTYPE_syscall, .address = syscall };
    register_callback(&r);
    return 0;
}

long do_stack_switch(hc_arg_t ss, hc_arg_t sp)
{
    struct vcpu *v = current;

    v->arch.kernel_ss = (ss & ~3UL) ? (ss | 3) : ss; /* guest selectors carry RPL 3 */
    v->arch.kernel_sp = sp;
    return 0;
}

long do_fpu_taskswitch(hc_arg_t set)
{
    struct vcpu *v = current;

    if ((int)set) {
        v->arch.fpu_ts = true;
        stts();
    } else {
        v->arch.fpu_ts = false;
        clts();
    }
    return 0;
}

long do_iret(void)
{
    struct vcpu *v = current;
    struct cpu_user_regs *regs = v->arch.regs;
    struct iret_context ic;

    if (copy_from_guest(&ic, regs->rsp, sizeof(ic))) {
        domain_crash(v->domain, "iret: cannot read the frame at %016lx", regs->rsp);
        return 0;
    }
    if ((ic.cs & 3) == 3) {
        if (mfn_eq(v->arch.guest_table_user, INVALID_MFN)) {
            domain_crash(v->domain, "iret: switch to user mode with no user page tables");
            return 0;
        }
        pv_toggle_mode(v);
    }
    regs->rip = ic.rip;
    regs->cs = ic.cs | 3;
    regs->rflags = (ic.rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM)) | X86_EFLAGS_IF;
    regs->rsp = ic.rsp;
    regs->ss = ic.ss | 3;
    if (!(ic.flags & VGCF_in_syscall)) {
        regs->r11 = ic.r11;
        regs->rcx = ic.rcx;
    } else {
        /* A return from a system call ends as SYSRET would: rcx = rip, r11 = rflags. */
        regs->rcx = regs->rip;
        regs->r11 = regs->rflags;
    }
    v->vcpu_info->evtchn_upcall_mask = !(ic.rflags & X86_EFLAGS_IF);
    WRITE_ONCE(v->nmi_masked, false); /* Xen: an iret ends the NMI handler's mask */
    regs->rax = ic.rax;
    return (long)ic.rax;
}
