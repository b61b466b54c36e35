/*
 * A vCPU's timers, with Xen 4.17's rules. Both raise VIRQ_TIMER on their vCPU.
 *
 * The single-shot timer (VCPUOP_set_singleshot_timer, set_timer_op) fires once at an
 * absolute system time; a deadline already passed sends the event during the call.
 * The periodic timer (VCPUOP_set_periodic_timer, 10 ms from the start as on Xen) ticks
 * only while its vCPU is on a CPU: it is stopped when the vCPU is switched out, and when
 * it is switched back in a tick is sent at once if a period has passed since the last
 * one. So a blocked vCPU is never woken by its periodic timer, only by the single-shot
 * one (or any other event).
 *
 * Locking: v->periodic_lock guards the period and the time of the last tick; it is taken
 * with interrupts on and before event-channel and scheduler locks.
 */
#ifndef ENSO_VCPU_TIMER_H
#define ENSO_VCPU_TIMER_H

#include <enso/hypercall.h>

struct vcpu;

/* The four VCPUOP_*_timer commands for vCPU v of the caller's domain. */
long vcpu_timer_op(int cmd, struct vcpu *v, hc_arg_t arg);

/* Set up v's timers (on v->processor); in vcpu_create, before v can run. */
void vcpu_timer_init(struct vcpu *v);
/* Kill v's timers; once this returns no callback of theirs runs, and v may be freed. */
void vcpu_timer_destroy(struct vcpu *v);
/* The scheduler switches this CPU from prev to next (either may be an idle vCPU). */
void vcpu_timer_switch(struct vcpu *prev, struct vcpu *next);
/*
 * v has gone down (VCPUOP_down; call it after setting VPF_down). Xen does nothing to the
 * timers here: the periodic one stops with the deschedule that follows (this stops it at
 * once, which is the same) and its period is kept for VCPUOP_up; the single-shot one
 * stays armed, and when it fires VIRQ_TIMER is left pending on the down vCPU.
 */
void vcpu_timer_down(struct vcpu *v);

#endif
