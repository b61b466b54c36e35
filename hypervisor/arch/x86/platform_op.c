/*
 * platform_op: hardware-platform operations for the control domain. Of Xen 4.17's
 * commands only setting the wall clock exists so far; the rest answer -ENOSYS. The
 * checks come in Xen's order: the whole structure is read (-EFAULT), then the interface
 * version (-EACCES), then privilege (-EPERM, Xen's XSM_PRIV with the default policy).
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <enso/wallclock.h>
#include <public/platform.h>

long do_platform_op(hc_arg_t arg)
{
    struct xen_platform_op op;

    if (copy_from_guest(&op, arg, sizeof(op)))
        return -EFAULT;
    if (op.interface_version != XENPF_INTERFACE_VERSION)
        return -EACCES;
    if (!current->domain->is_privileged)
        return -EPERM;
    switch (op.cmd) {
    case XENPF_settime32:
        wallclock_set_all(op.u.settime32.secs, op.u.settime32.nsecs,
                          op.u.settime32.system_time);
        return 0;
    case XENPF_settime64:
        if (op.u.settime64.mbz)
            return -EINVAL;
        wallclock_set_all(op.u.settime64.secs, op.u.settime64.nsecs,
                          op.u.settime64.system_time);
        return 0;
    default:
        return -ENOSYS;
    }
}
