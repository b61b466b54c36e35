/*
 * physdev_op for PV guests. set_iopl gives the guest a virtual I/O privilege level:
 * with it, the guest kernel's port accesses are emulated (ports it has no right to read
 * as all ones and ignore writes, as on Xen). The rest comes with domain 0's devices.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <public/physdev.h>

long do_physdev_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case PHYSDEVOP_set_iopl: {
        struct physdev_set_iopl s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -EFAULT;
        if (s.iopl > 3)
            return -EINVAL;
        current->arch.iopl = s.iopl;
        return 0;
    }
    default:
        return -ENOSYS;
    }
}
