/*
 * multicall: a batch of hypercalls in one transition. Each entry's result is written
 * back to it; the call itself returns 0, or -EFAULT if the list cannot be read. A long
 * batch is continued (-ERESTART) at the next entry when other work waits on this CPU.
 * An entry that itself asks for a continuation (a long mmu_update, say) gets its
 * updated arguments written back into the guest's entry, and the multicall continues
 * at that entry, as on Xen: the guest never sees -ERESTART as a result.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <asm/pv.h>
#include <public/xen.h>

long do_multicall(hc_arg_t list, hc_arg_t nr)
{
    unsigned int n = (unsigned int)nr;

    if (!guest_range_ok(list, 1)) /* Xen looks at the list's start even for no calls */
        return -EFAULT;
    for (unsigned int i = 0; i < n; i++) {
        struct multicall_entry mc;
        uint64_t at = list + (uint64_t)i * sizeof(mc);
        long ret;

        if (i && hypercall_preempt_check()) {
            hypercall_args()[0] = at;
            hypercall_args()[1] = n - i;
            return -ERESTART;
        }
        if (copy_from_guest(&mc, at, sizeof(mc)))
            return -EFAULT;
        if (mc.op == __HYPERVISOR_multicall || mc.op == __HYPERVISOR_iret) {
            ret = -EINVAL;
        } else {
            hc_arg_t *outer = hypercall_swap_args((hc_arg_t *)mc.args);
            ret = pv_do_hypercall(mc.op, (const unsigned long *)mc.args);
            hypercall_swap_args(outer);
        }
        if (ret == -ERESTART) {
            if (copy_to_guest(at + offsetof(struct multicall_entry, args), mc.args,
                              sizeof(mc.args)))
                return -EFAULT;
            hypercall_args()[0] = at;
            hypercall_args()[1] = n - i;
            return -ERESTART;
        }
        mc.result = (xen_ulong_t)ret;
        if (copy_to_guest(at + offsetof(struct multicall_entry, result), &mc.result,
                          sizeof(mc.result)))
            return -EFAULT;
        if (current->domain->state != DOMST_running)
            return 0;
    }
    return 0;
}
