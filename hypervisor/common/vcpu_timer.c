/*
 * vCPU timers (see <enso/vcpu_timer.h>): VCPUOP_{set,stop}_{singleshot,periodic}_timer
 * and set_timer_op, with the argument checks, errnos and odd cases of Xen 4.17 (measured
 * by guests/tests/timers.c on both).
 */
#include <enso/errno.h>
#include <enso/event.h>
#include <enso/guest_access.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/time.h>
#include <enso/timer.h>
#include <enso/vcpu_timer.h>
#include <public/vcpu.h>

#define PV_DEFAULT_PERIOD MILLISECS(10)   /* a PV vCPU's periodic timer at creation */
#define PERIOD_MIN MILLISECS(1)
#define PERIOD_MAX ((s_time_t)(~0ULL >> 2)) /* Xen's STIME_DELTA_MAX */
/* set_timer_op deadlines this far ahead (or negative) are taken as a guest's bogus
 * value: rather than sleep for days or fire at once, the event comes in 100 ms. */
#define SET_TIMER_FAR ((s_time_t)1 << 50)
#define SET_TIMER_BOGUS_DELAY MILLISECS(100)

static void send_timer_event(struct vcpu *v)
{
    send_guest_vcpu_virq(v, VIRQ_TIMER);
}

static void singleshot_fn(void *data)
{
    send_timer_event(data);
}

/* periodic_lock held, period set: tick if a whole period has passed since the last
 * tick, then arm the timer for the next one on the vCPU's CPU. */
static void periodic_work_locked(struct vcpu *v)
{
    s_time_t now = NOW(), next = v->periodic_last + v->periodic_period;

    if (now >= next) {
        send_timer_event(v);
        v->periodic_last = now;
        next = now + v->periodic_period;
    }
    migrate_timer(&v->periodic_timer, v->processor);
    set_timer(&v->periodic_timer, next);
}

static void periodic_work(struct vcpu *v)
{
    if (!READ_ONCE(v->periodic_period))
        return;
    spin_lock(&v->periodic_lock);
    if (v->periodic_period)
        periodic_work_locked(v);
    spin_unlock(&v->periodic_lock);
}

static void periodic_fn(void *data)
{
    periodic_work(data);
}

/* A new period (0: off). The first tick comes at once if one is due. */
static void set_periodic(struct vcpu *v, s_time_t period)
{
    spin_lock(&v->periodic_lock);
    stop_timer(&v->periodic_timer);
    v->periodic_period = period;
    if (period)
        periodic_work_locked(v);
    spin_unlock(&v->periodic_lock);
}

static void set_singleshot(struct vcpu *v, s_time_t deadline)
{
    migrate_timer(&v->singleshot_timer, v->processor);
    set_timer(&v->singleshot_timer, deadline);
}

long vcpu_timer_op(int cmd, struct vcpu *v, hc_arg_t arg)
{
    switch (cmd) {
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer p;

        if (copy_from_guest(&p, arg, sizeof(p)))
            return -EFAULT;
        if (p.period_ns < (uint64_t)PERIOD_MIN || p.period_ns > (uint64_t)PERIOD_MAX)
            return -EINVAL;
        set_periodic(v, (s_time_t)p.period_ns);
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        set_periodic(v, 0);
        return 0;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer s;

        if (v != current)
            return -EINVAL;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -EFAULT;
        /*
         * flags are ignored: Xen 4.17.3 and later no longer fail VCPU_SSHOTTMR_future
         * with -ETIME. A deadline passed sends the event now; one above 2^63 is a
         * negative system time, i.e. also passed, but goes through the timer.
         */
        if (s.timeout_abs_ns < (uint64_t)NOW()) {
            stop_timer(&v->singleshot_timer);
            send_timer_event(v);
            return 0;
        }
        set_singleshot(v, (s_time_t)s.timeout_abs_ns);
        return 0;
    }
    case VCPUOP_stop_singleshot_timer:
        if (v != current)
            return -EINVAL;
        stop_timer(&v->singleshot_timer);
        return 0;
    }
    return -ENOSYS;
}

long do_set_timer_op(hc_arg_t arg)
{
    struct vcpu *v = current;
    s_time_t timeout = (s_time_t)arg, now = NOW();

    if (timeout == 0)
        stop_timer(&v->singleshot_timer);
    else if (timeout < 0 || timeout - now >= SET_TIMER_FAR)
        set_singleshot(v, now + SET_TIMER_BOGUS_DELAY);
    else
        set_singleshot(v, timeout);
    return 0;
}

void vcpu_timer_init(struct vcpu *v)
{
    init_timer(&v->singleshot_timer, singleshot_fn, v, v->processor);
    init_timer(&v->periodic_timer, periodic_fn, v, v->processor);
    spin_lock_init(&v->periodic_lock);
    v->periodic_period = PV_DEFAULT_PERIOD;
    v->periodic_last = 0;
}

void vcpu_timer_destroy(struct vcpu *v)
{
    kill_timer(&v->singleshot_timer);
    kill_timer(&v->periodic_timer);
}

void vcpu_timer_switch(struct vcpu *prev, struct vcpu *next)
{
    if (!is_idle_vcpu(prev))
        stop_timer(&prev->periodic_timer);
    if (!is_idle_vcpu(next))
        periodic_work(next);
}

void vcpu_timer_down(struct vcpu *v)
{
    stop_timer(&v->periodic_timer);
}
