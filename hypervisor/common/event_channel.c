/*
 * event_channel_op. Event channels themselves are not built yet: a domain has no bound
 * port, so sending on any port is -EINVAL (what Xen answers for a free or invalid port)
 * and the operations that would create or change ports return -ENOSYS.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <public/event_channel.h>

long do_event_channel_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case EVTCHNOP_send: {
        struct evtchn_send s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -EFAULT;
        return -EINVAL;
    }
    case EVTCHNOP_status: {
        struct evtchn_status st;
        if (copy_from_guest(&st, arg, sizeof(st)))
            return -EFAULT;
        return -ENOSYS;
    }
    default:
        return -ENOSYS;
    }
}
