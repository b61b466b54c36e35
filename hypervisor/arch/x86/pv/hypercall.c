/*
 * Hypercall dispatch for 64-bit PV guests: a SYSCALL from guest kernel mode. The
 * hypercall page the builder writes holds a 32-byte stub per number that does the
 * SYSCALL with the number in eax; guests may also issue the SYSCALL directly (Linux
 * since 6.1.121 has no hypercall page).
 */
#include <enso/errno.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>

typedef long (*hypercall_fn_t)(hc_arg_t, hc_arg_t, hc_arg_t, hc_arg_t, hc_arg_t, hc_arg_t);

/* Handlers take fewer, typed arguments; the extra registers are simply ignored. */
#define HC(nr, fn) [__HYPERVISOR_##nr] = (hypercall_fn_t)(void (*)(void))(fn)

static const hypercall_fn_t hypercall_table[NR_HYPERCALLS] = {
    HC(set_trap_table, do_set_trap_table),
    HC(set_gdt, do_set_gdt),
    HC(update_descriptor, do_update_descriptor),
    HC(stack_switch, do_stack_switch),
    HC(set_callbacks, do_set_callbacks),
    HC(fpu_taskswitch, do_fpu_taskswitch),
    HC(sched_op_compat, do_sched_op_compat),
    HC(set_debugreg, do_set_debugreg),
    HC(get_debugreg, do_get_debugreg),
    HC(multicall, do_multicall),
    HC(xen_version, do_xen_version),
    HC(console_io, do_console_io),
    HC(vm_assist, do_vm_assist),
    HC(iret, do_iret),
    HC(set_segment_base, do_set_segment_base),
    HC(sched_op, do_sched_op),
    HC(callback_op, do_callback_op),
    HC(mmu_update, do_mmu_update),
    HC(vcpu_op, do_vcpu_op),
    HC(event_channel_op, do_event_channel_op),
    HC(physdev_op, do_physdev_op),
    HC(memory_op, do_memory_op),
    HC(update_va_mapping, do_update_va_mapping),
    HC(update_va_mapping_otherdomain, do_update_va_mapping_otherdomain),
    HC(mmuext_op, do_mmuext_op),
    HC(set_timer_op, do_set_timer_op),
    HC(platform_op, do_platform_op),
};

static DEFINE_PER_CPU(hc_arg_t *, current_args);

hc_arg_t *hypercall_args(void)
{
    return this_cpu(current_args);
}

hc_arg_t *hypercall_swap_args(hc_arg_t *args)
{
    hc_arg_t *old = this_cpu(current_args);

    this_cpu(current_args) = args;
    return old;
}

bool hypercall_preempt_check(void)
{
    return softirq_pending(smp_processor_id());
}

long pv_do_hypercall(unsigned long nr, const unsigned long args[6])
{
    if (nr >= NR_HYPERCALLS || !hypercall_table[nr])
        return -ENOSYS;
    return hypercall_table[nr](args[0], args[1], args[2], args[3], args[4], args[5]);
}

void pv_hypercall(struct cpu_user_regs *regs)
{
    hc_arg_t args[6] = { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9 };
    unsigned long nr = regs->rax;
    long ret;

    this_cpu(current_args) = args;
    ret = pv_do_hypercall(nr, args);
    this_cpu(current_args) = NULL;

    if (nr == __HYPERVISOR_iret)
        return; /* the frame now holds the restored context, rax included */
    if (ret == -ERESTART) {
        /* Re-issue: back over the 2-byte SYSCALL, with the updated arguments. */
        regs->rip -= 2;
        regs->rdi = args[0];
        regs->rsi = args[1];
        regs->rdx = args[2];
        regs->r10 = args[3];
        regs->r8 = args[4];
        regs->r9 = args[5];
        return;
    }
    regs->rax = (uint64_t)ret;
}
