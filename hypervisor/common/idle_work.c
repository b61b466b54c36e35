/*
 * Work run by idle CPUs (idle_work.h). Items run one at a time across all CPUs: a
 * preempted item may leave shared state half used (the LZMA decoder keeps its
 * probability tables in one static copy), so a second item waits until it is done.
 */
#include <enso/idle_work.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/spinlock.h>

static DEFINE_SPINLOCK(work_lock);
static LIST_HEAD(work_queue);
static bool work_running;                     /* some CPU is inside an item */
static DEFINE_PER_CPU(bool, running_here);    /* this CPU's idle vCPU is */

static bool boot_phase; /* the boot CPU builds the boot-time domains */

/* A preemption point: on the CPU running an item, and only in its idle vCPU, let
 * softirqs run, the scheduler included (it may run guests and come back here later).
 * While the boot CPU builds the boot-time domains, timers run (the RTC edge watch sets
 * the wall clock before the guests read it). */
static void preempt(void)
{
    if (this_cpu(running_here) && is_idle_vcpu(current))
        do_softirq();
    else if (boot_phase)
        do_softirq_only(TIMER_SOFTIRQ); /* timers fire; no vCPU runs here before boot ends */
}

void idle_work_boot_phase(bool on)
{
    long_work_hook = preempt;
    boot_phase = on;
}

void idle_work_queue(struct idle_work *w)
{
    unsigned long flags;

    long_work_hook = preempt;
    flags = spin_lock_irqsave(&work_lock);
    list_add_tail(&w->list, &work_queue);
    spin_unlock_irqrestore(&work_lock, flags);
    sched_kick_idle_cpus();
}

static struct idle_work *take_work(void)
{
    struct idle_work *w = NULL;
    unsigned long flags = spin_lock_irqsave(&work_lock);

    if (!work_running && !list_empty(&work_queue)) {
        w = list_first_entry(&work_queue, struct idle_work, list);
        list_del(&w->list);
        work_running = true;
    }
    spin_unlock_irqrestore(&work_lock, flags);
    return w;
}

void idle_work_run(void)
{
    struct idle_work *w;

    while ((w = take_work())) {
        unsigned long flags;

        this_cpu(running_here) = true;
        w->fn(w);
        this_cpu(running_here) = false;
        flags = spin_lock_irqsave(&work_lock);
        work_running = false;
        spin_unlock_irqrestore(&work_lock, flags);
    }
}
