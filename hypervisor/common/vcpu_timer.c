/*
 * vCPU timers. Not built yet: every command answers -ENOSYS.
 */
#include <enso/errno.h>
#include <enso/vcpu_timer.h>

long vcpu_timer_op(int cmd, struct vcpu *v, hc_arg_t arg)
{
    (void)cmd;
    (void)v;
    (void)arg;
    return -ENOSYS;
}
