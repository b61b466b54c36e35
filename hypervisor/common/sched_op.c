/*
 * sched_op: a vCPU gives up its CPU (yield), sleeps until an event (block), or its
 * domain stops (shutdown). Errnos and argument handling follow Xen 4.17.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <public/sched.h>
#include <public/event_channel.h>
#include <public/vcpu.h>

static long sched_shutdown(hc_arg_t arg, bool code_only)
{
    struct sched_shutdown s;
    struct domain *d = current->domain;

    if (copy_from_guest(&s, arg, sizeof(s)))
        return -EFAULT;
    if (code_only) {
        d->shutdown_code = s.reason;
        return 0;
    }
    domain_shutdown(d, s.reason);
    return 0;
}

/* Without event channels nothing can wake a blocked vCPU, so block is a yield for now. */
static long sched_block(void)
{
    struct vcpu *v = current;

    v->vcpu_info->evtchn_upcall_mask = 0; /* block re-enables event delivery */
    vcpu_yield();
    return 0;
}

/* Ports a 2-level event-channel domain can have. */
#define EVTCHN_2L_PORTS 4096
#define POLL_MAX_PORTS 128

/*
 * Wait for one of the given ports or the timeout. No port can be pending yet (event
 * channels come later), so after the checks this sleeps one time slice at most: a
 * spurious wake-up, which poll's callers must tolerate anyway.
 */
static long sched_poll(hc_arg_t arg)
{
    struct sched_poll sp;

    if (copy_from_guest(&sp, arg, sizeof(sp)))
        return -EFAULT;
    if (sp.nr_ports > POLL_MAX_PORTS)
        return -EINVAL;
    for (unsigned int i = 0; i < sp.nr_ports; i++) {
        evtchn_port_t port;
        if (copy_from_guest(&port, sp.ports.p + i * sizeof(port), sizeof(port)))
            return -EFAULT;
        if (port >= EVTCHN_2L_PORTS)
            return -EINVAL;
    }
    if (sp.timeout && (s_time_t)sp.timeout <= NOW())
        return 0;
    vcpu_yield();
    return 0;
}

static long remote_shutdown(hc_arg_t arg)
{
    struct sched_remote_shutdown rs;
    struct domain *d;

    if (copy_from_guest(&rs, arg, sizeof(rs)))
        return -EFAULT;
    d = get_domain_by_id((domid_t)rs.domain_id);
    if (!d)
        return -ESRCH;
    if (!current->domain->is_privileged) {
        put_domain(d);
        return -EPERM;
    }
    domain_shutdown(d, rs.reason);
    put_domain(d);
    return 0;
}

long do_sched_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case SCHEDOP_poll:
        return sched_poll(arg);
    case SCHEDOP_remote_shutdown:
        return remote_shutdown(arg);
    case SCHEDOP_yield:
        vcpu_yield();
        return 0;
    case SCHEDOP_block:
        return sched_block();
    case SCHEDOP_shutdown:
        return sched_shutdown(arg, false);
    case SCHEDOP_shutdown_code:
        return sched_shutdown(arg, true);
    default:
        return -ENOSYS;
    }
}

/* The old interface: the argument is the value itself, not a pointer. */
long do_sched_op_compat(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case SCHEDOP_yield:
        vcpu_yield();
        return 0;
    case SCHEDOP_block:
        return sched_block();
    case SCHEDOP_shutdown:
        domain_shutdown(current->domain, (unsigned int)arg);
        return 0;
    default:
        return -ENOSYS;
    }
}

long do_vm_assist(hc_arg_t cmd, hc_arg_t type)
{
    struct domain *d = current->domain;
    const unsigned long valid = (1UL << VMASST_TYPE_4gb_segments) |
                                (1UL << VMASST_TYPE_4gb_segments_notify) |
                                (1UL << VMASST_TYPE_writable_pagetables) |
                                (1UL << VMASST_TYPE_pae_extended_cr3) |
                                (1UL << VMASST_TYPE_architectural_iopl) |
                                (1UL << VMASST_TYPE_runstate_update_flag) |
                                (1UL << VMASST_TYPE_m2p_strict);

    if ((unsigned int)type >= 64 || !(valid & (1UL << type)))
        return -EINVAL;
    switch ((unsigned int)cmd) {
    case VMASST_CMD_enable:
        __atomic_fetch_or(&d->vm_assist, 1UL << type, __ATOMIC_SEQ_CST);
        return 0;
    case VMASST_CMD_disable:
        __atomic_fetch_and(&d->vm_assist, ~(1UL << type), __ATOMIC_SEQ_CST);
        return 0;
    }
    return -ENOSYS;
}
