/*
 * vcpu_op: operations on one of the caller's vCPUs. Only the queries exist so far; the
 * rest (initialise, up/down, timers, registered areas) return -ENOSYS until the
 * multi-vCPU and time work lands.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <enso/time.h>
#include <enso/vcpu_timer.h>
#include <public/vcpu.h>

long do_vcpu_op(hc_arg_t cmd, hc_arg_t vcpuid, hc_arg_t arg)
{
    struct domain *d = current->domain;
    struct vcpu *v;

    if ((unsigned int)vcpuid >= d->max_vcpus || !(v = d->vcpu[(unsigned int)vcpuid]))
        return -ENOENT;
    switch ((int)cmd) {
    case VCPUOP_is_up:
        return !(READ_ONCE(v->pause_flags) & VPF_down);
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info r = v->runstate;
        uint64_t now = (uint64_t)NOW();
        /* Bring the current state's time up to now, as a snapshot. */
        if (now > r.state_entry_time)
            r.time[r.state & 3] += now - r.state_entry_time;
        r.state_entry_time = now;
        return copy_to_guest(arg, &r, sizeof(r)) ? -EFAULT : 0;
    }
    case VCPUOP_set_periodic_timer:
    case VCPUOP_stop_periodic_timer:
    case VCPUOP_set_singleshot_timer:
    case VCPUOP_stop_singleshot_timer:
        return vcpu_timer_op((int)cmd, v, arg);
    default:
        return -ENOSYS;
    }
}
