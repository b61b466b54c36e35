/*
 * A vCPU's timers: the single-shot timer (set_timer_op, VCPUOP_set_singleshot_timer) and
 * the periodic one (VCPUOP_set_periodic_timer). Both raise VIRQ_TIMER on their vCPU.
 */
#ifndef ENSO_VCPU_TIMER_H
#define ENSO_VCPU_TIMER_H

#include <enso/hypercall.h>

struct vcpu;

/* The four VCPUOP_*_timer commands for vCPU v of the caller's domain. */
long vcpu_timer_op(int cmd, struct vcpu *v, hc_arg_t arg);

#endif
