/*
 * A round-robin scheduler with one queue of runnable vCPUs for all CPUs: a CPU that
 * needs work takes the vCPU at the head and runs it for a time slice; a vCPU whose
 * slice ends while others wait goes to the tail. So every runnable vCPU gets a CPU in
 * turn however many there are per CPU, a domain's vCPUs spread over the CPUs, and a
 * vCPU runs wherever a CPU is free (v->processor: where it runs or ran last). A vCPU
 * that becomes runnable wakes an idle CPU, its last one if that one idles.
 * The proportional-share scheduler of the paper replaces this later.
 *
 * A vCPU counts as running (is_running) from the moment a CPU picks it until that CPU
 * has saved its state after switching away (sched_switch_done); only then can it be
 * queued again, so no CPU ever loads a vCPU's state before the last one has finished
 * saving it.
 *
 * Runstates follow Xen's rules: running while on a CPU; when it leaves, runnable,
 * blocked (VPF_blocked) or offline; a wake-up makes a blocked or offline vCPU runnable,
 * and a runnable one that may no longer run becomes offline. A registered runstate copy
 * is written when the vCPU leaves its CPU and when it arrives (as Xen does), not at
 * the changes in between.
 *
 * Hard affinity: a vCPU runs only on the CPUs of its affinity mask (enso.cpus= for a
 * boot-time domain, SCHEDOP_pin_override for domain 0). A CPU takes the first queued
 * vCPU allowed on it, so a pinned vCPU may be passed over by others; a wake-up asks an
 * idle CPU the vCPU may use.
 *
 * Locking: sched_lock (taken with interrupts off) guards the queue, each vCPU's
 * on_runq, is_running, processor, affinity and runstate, and the set of idle CPUs.
 * pause_flags are changed with atomic bit operations, outside it.
 */
#include <enso/bitmap.h>
#include <enso/errno.h>
#include <enso/keyhandler.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/time.h>
#include <enso/vcpu_timer.h>
#include <enso/xmalloc.h>
#include <asm/processor.h>

#define TIME_SLICE MILLISECS(10)

struct sched_cpu {
    struct vcpu *idle;
    struct timer slice_timer;
};

static DEFINE_PER_CPU(struct sched_cpu, sched);
static DEFINE_SPINLOCK(sched_lock);
static LIST_HEAD(runq);
/* CPUs running their idle vCPU that have not been asked to look at the queue yet. */
static cpumask_t idle_cpus;

static bool vcpu_runnable(const struct vcpu *v)
{
    return !READ_ONCE(v->pause_flags) && v->domain->state == DOMST_running;
}

struct vcpu *idle_vcpu_of(unsigned int cpu)
{
    return per_cpu(sched, cpu).idle;
}

/* sched_lock held. As Xen: time is added only when the clock moved forward. */
static void runstate_set(struct vcpu *v, int state, uint64_t now)
{
    struct vcpu_runstate_info *r = &v->runstate;

    if (r->state == state)
        return;
    if (now > r->state_entry_time) {
        r->time[r->state & 3] += now - r->state_entry_time;
        r->state_entry_time = now;
    }
    r->state = state;
}

void vcpu_runstate_snapshot(const struct vcpu *v, struct vcpu_runstate_info *r)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);

    *r = v->runstate;
    spin_unlock_irqrestore(&sched_lock, flags);
}

/* The current state's time is brought up to now; state_entry_time stays as it is. */
void vcpu_runstate_get(const struct vcpu *v, struct vcpu_runstate_info *r)
{
    uint64_t now;

    vcpu_runstate_snapshot(v, r);
    now = (uint64_t)NOW();
    if (now > r->state_entry_time)
        r->time[r->state & 3] += now - r->state_entry_time;
}

static int state_after_running(const struct vcpu *v)
{
    if (READ_ONCE(v->pause_flags) & VPF_blocked)
        return RUNSTATE_blocked;
    return vcpu_runnable(v) ? RUNSTATE_runnable : RUNSTATE_offline;
}

/*
 * sched_lock held: v goes to the tail of the queue. Returns the idle CPU to wake for
 * it (its last CPU if that one idles), or -1 if every CPU is busy.
 */
static int enqueue(struct vcpu *v)
{
    unsigned int cpu = v->processor;
    cpumask_t usable;

    list_add_tail(&v->runq_elem, &runq);
    v->on_runq = true;
    if (!cpumask_and(&usable, &idle_cpus, &v->affinity))
        return -1;
    if (!cpumask_test_cpu(cpu, &usable))
        cpu = cpumask_first(&usable);
    /* Asked once: it takes itself back into the set if it finds nothing to run. */
    cpumask_clear_cpu(cpu, &idle_cpus);
    return (int)cpu;
}

static void kick(int cpu)
{
    if (cpu >= 0)
        cpu_raise_softirq((unsigned int)cpu, SCHEDULE_SOFTIRQ);
}

static void slice_expired(void *data)
{
    raise_softirq(SCHEDULE_SOFTIRQ);
}

/* sched_lock held: what this CPU runs next. prev keeps the CPU if nobody waits. */
static struct vcpu *pick_next(struct vcpu *prev, unsigned int cpu)
{
    struct vcpu *next;

    list_for_each_entry(next, &runq, runq_elem) {
        if (!cpumask_test_cpu(cpu, &next->affinity))
            continue;
        list_del(&next->runq_elem);
        next->on_runq = false;
        return next;
    }
    if (!is_idle_vcpu(prev) && vcpu_runnable(prev) && cpumask_test_cpu(cpu, &prev->affinity))
        return prev;
    return per_cpu(sched, cpu).idle;
}

static void schedule(void)
{
    unsigned int cpu = smp_processor_id();
    struct sched_cpu *sc = &this_cpu(sched);
    struct vcpu *prev = current, *next;
    s_time_t now = NOW();
    unsigned long flags = spin_lock_irqsave(&sched_lock);

    next = pick_next(prev, cpu);
    if (is_idle_vcpu(next))
        cpumask_set_cpu(cpu, &idle_cpus);
    else
        cpumask_clear_cpu(cpu, &idle_cpus);
    if (next != prev) {
        /* prev stays is_running until its state is saved (sched_switch_done). */
        if (!is_idle_vcpu(prev))
            runstate_set(prev, state_after_running(prev), (uint64_t)now);
        if (!is_idle_vcpu(next)) {
            runstate_set(next, RUNSTATE_running, (uint64_t)now);
            next->is_running = true;
            next->processor = cpu;
        }
    }
    spin_unlock_irqrestore(&sched_lock, flags);

    if (is_idle_vcpu(next))
        stop_timer(&sc->slice_timer);
    else
        set_timer(&sc->slice_timer, now + TIME_SLICE);
    if (next == prev)
        return;
    prev->run_time += (uint64_t)(now - (s_time_t)prev->last_start);
    next->last_start = (uint64_t)now;
    vcpu_timer_switch(prev, next);
    /* While prev's page tables are still the ones loaded. */
    if (!is_idle_vcpu(prev))
        vcpu_areas_switched_out(prev);
    current = next;
    context_switch(prev, next);
}

void sched_switch_done(struct vcpu *prev, struct vcpu *next)
{
    if (prev && !is_idle_vcpu(prev)) {
        unsigned long flags = spin_lock_irqsave(&sched_lock);
        int cpu = -1;

        prev->is_running = false;
        if (vcpu_runnable(prev) && !prev->on_runq)
            cpu = enqueue(prev);
        spin_unlock_irqrestore(&sched_lock, flags);
        kick(cpu);
    }
    if (!is_idle_vcpu(next))
        vcpu_areas_switched_in(next);
}

void vcpu_wake(struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    uint64_t now = (uint64_t)NOW();
    int cpu = -1;

    if (vcpu_runnable(v)) {
        if (v->runstate.state >= RUNSTATE_blocked)
            runstate_set(v, RUNSTATE_runnable, now);
        /* One still on a CPU is queued by sched_switch_done once it is off. */
        if (!v->on_runq && !v->is_running)
            cpu = enqueue(v);
    } else if (!(READ_ONCE(v->pause_flags) & VPF_blocked) &&
               v->runstate.state == RUNSTATE_blocked) {
        runstate_set(v, RUNSTATE_offline, now);
    }
    spin_unlock_irqrestore(&sched_lock, flags);
    kick(cpu);
}

void vcpu_sleep(struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    bool running = false;
    unsigned int cpu = v->processor;

    if (!vcpu_runnable(v)) {
        if (v->on_runq) {
            list_del(&v->runq_elem);
            v->on_runq = false;
        }
        if (v->runstate.state == RUNSTATE_runnable)
            runstate_set(v, RUNSTATE_offline, (uint64_t)NOW());
        running = v->is_running;
    }
    spin_unlock_irqrestore(&sched_lock, flags);
    if (running)
        cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
}

void vcpu_set_pause_flag(struct vcpu *v, unsigned int flag)
{
    __atomic_fetch_or(&v->pause_flags, flag, __ATOMIC_SEQ_CST);
    vcpu_sleep(v);
}

void vcpu_clear_pause_flag(struct vcpu *v, unsigned int flag)
{
    if (__atomic_fetch_and(&v->pause_flags, ~flag, __ATOMIC_SEQ_CST) & flag)
        vcpu_wake(v);
}

/* sched_lock held: v is on a CPU it may no longer use; that CPU must switch it away. */
static void leave_if_disallowed(struct vcpu *v)
{
    if (v->is_running && !cpumask_test_cpu(v->processor, &v->affinity))
        cpu_raise_softirq(v->processor, SCHEDULE_SOFTIRQ);
}

void vcpu_set_affinity(struct vcpu *v, const cpumask_t *mask)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);

    cpumask_copy(&v->affinity, mask);
    if (!v->is_running && !cpumask_test_cpu(v->processor, mask))
        v->processor = cpumask_first(mask);
    leave_if_disallowed(v);
    spin_unlock_irqrestore(&sched_lock, flags);
}

/*
 * Xen's rules: pinning needs an online CPU and no override in place (-EINVAL,
 * -EBUSY); undoing one that is not there is -EINVAL. A vCPU pinned away from the CPU
 * it is on leaves it on its way back to the guest (the schedule softirq).
 */
int vcpu_pin_override(struct vcpu *v, int cpu)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    int rc = -EINVAL;

    if (cpu < 0) {
        if (v->affinity_overridden) {
            v->affinity_overridden = false;
            cpumask_copy(&v->affinity, &v->affinity_saved);
            rc = 0;
        }
    } else if (v->affinity_overridden) {
        rc = -EBUSY;
    } else if ((unsigned int)cpu < NR_CPUS && cpumask_test_cpu((unsigned int)cpu,
                                                                 &cpu_online_map)) {
        cpumask_copy(&v->affinity_saved, &v->affinity);
        cpumask_clear(&v->affinity);
        cpumask_set_cpu((unsigned int)cpu, &v->affinity);
        v->affinity_overridden = true;
        rc = 0;
    }
    if (!rc)
        leave_if_disallowed(v);
    spin_unlock_irqrestore(&sched_lock, flags);
    return rc;
}

int vcpu_pinned_cpu(const struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    int cpu = cpumask_weight(&v->affinity) == 1 ? (int)cpumask_first(&v->affinity) : -1;

    spin_unlock_irqrestore(&sched_lock, flags);
    return cpu;
}

/* Every idle CPU looks at its idle loop's work again (idle_work.c). */
void sched_kick_idle_cpus(void)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    cpumask_t idle = idle_cpus;

    spin_unlock_irqrestore(&sched_lock, flags);
    for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
        if (cpumask_test_cpu(cpu, &idle))
            cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
}

void vcpu_yield(void)
{
    raise_softirq(SCHEDULE_SOFTIRQ);
}

void sched_init_cpu(unsigned int cpu)
{
    struct sched_cpu *sc = &per_cpu(sched, cpu);
    struct vcpu *idle = xzalloc_bytes(sizeof(*idle));
    unsigned long flags;

    if (!idle)
        panic("no memory for CPU %u's idle vCPU", cpu);
    init_timer(&sc->slice_timer, slice_expired, NULL, cpu);
    idle->processor = cpu;
    idle->is_running = true;
    idle->stack = per_cpu(cpu_info, cpu).stack;
    list_init(&idle->runq_elem);
    sc->idle = idle;
    per_cpu(cpu_info, cpu).curr_vcpu = idle;
    flags = spin_lock_irqsave(&sched_lock);
    cpumask_set_cpu(cpu, &idle_cpus);
    spin_unlock_irqrestore(&sched_lock, flags);
}

void scheduler_init(void)
{
    open_softirq(SCHEDULE_SOFTIRQ, schedule);
}

void sched_dump(void)
{
    struct domain *d;

    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list) {
        printk("domain %u (%s): %s, %lu of %lu pages\n", d->domain_id, d->name,
               d->state == DOMST_running ? "running" : d->state == DOMST_shutdown ? "shut down"
                                                                                  : "dying",
               d->tot_pages, d->max_pages);
        for (unsigned int i = 0; i < d->max_vcpus; i++) {
            struct vcpu *v = d->vcpu[i];
            if (!v)
                continue;
            printk("  vcpu %u: CPU %u, affinity %#lx, flags %#x%s, %lu ms run, rip %016lx\n",
                   i, v->processor, v->affinity.bits[0], v->pause_flags,
                   v->is_running ? " running" : "", (unsigned long)(v->run_time / 1000000),
                   v->arch.regs->rip);
        }
    }
    spin_unlock(&domain_list_lock);
}

static void dump_domains(char key)
{
    printk("'%c' pressed -> domains and vCPUs:\n", key);
    sched_dump();
}
register_keyhandler('q', dump_domains, "show domains and their vCPUs");
