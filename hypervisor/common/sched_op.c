/*
 * sched_op: a vCPU gives up its CPU (yield), sleeps until an event (block), or its
 * domain stops (shutdown). Errnos and argument handling follow Xen 4.17.
 */
#include <enso/errno.h>
#include <enso/event.h>
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
    /* A kernel that reports its own crash: show where it was, for the post-mortem. */
    if (s.reason == SHUTDOWN_crash && d->state == DOMST_running) {
        guest_console_flush(d); /* its own last words first */
        arch_dump_vcpu_state(current);
    }
    domain_shutdown(d, s.reason);
    return 0;
}

/* Unmask events and sleep until one is pending; at once if one already is. */
static long sched_block(void)
{
    vcpu_block_for_events();
    return 0;
}

#define POLL_MAX_PORTS 128

/*
 * Sleep until one of the given ports is pending, an event is due for delivery, or
 * system time passes the timeout (0: none); 0 in every case, as on Xen. Wake-ups may
 * be spurious (any new upcall ends a poll), which poll's callers must tolerate.
 */
static long sched_poll(hc_arg_t arg)
{
    struct sched_poll sp;

    if (copy_from_guest(&sp, arg, sizeof(sp)))
        return -EFAULT;
    if (sp.nr_ports > POLL_MAX_PORTS)
        return -EINVAL;
    /* Xen checks where the list starts; a fault further on is -EFAULT when read. */
    if (!guest_range_ok(sp.ports.p, 1))
        return -EFAULT;
    return evtchn_poll(sp.ports.p, sp.nr_ports, sp.timeout);
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

/* Domain 0 pins its running vCPU to a CPU for a while (firmware calls that must run
 * on a given CPU), and lets go with a negative CPU. */
static long pin_override(hc_arg_t arg)
{
    struct sched_pin_override p;

    if (!is_hardware_domain(current->domain))
        return -EPERM;
    if (copy_from_guest(&p, arg, sizeof(p)))
        return -EFAULT;
    return vcpu_pin_override(current, p.pcpu);
}

long do_sched_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case SCHEDOP_pin_override:
        return pin_override(arg);
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
