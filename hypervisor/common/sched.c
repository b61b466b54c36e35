/*
 * A round-robin scheduler: each CPU has a queue of runnable vCPUs and runs the one at
 * its head for a time slice, then moves it to the tail. A vCPU stays on the CPU it was
 * created for (no migration yet), which keeps the rules simple: only its own CPU ever
 * switches it in or out, so its saved state cannot be used before it is complete.
 * The proportional-share scheduler of the paper replaces this later.
 *
 * Locking: sched_cpu.lock guards the queue and the on_runq / is_running flags of the
 * vCPUs of that CPU; pause_flags are changed with atomic bit operations.
 */
#include <enso/bitmap.h>
#include <enso/keyhandler.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/time.h>
#include <enso/xmalloc.h>
#include <asm/processor.h>

#define TIME_SLICE MILLISECS(10)

struct sched_cpu {
    spinlock_t lock;
    struct list_head runq;
    struct vcpu *idle;
    struct timer slice_timer;
};

static DEFINE_PER_CPU(struct sched_cpu, sched);

static bool vcpu_runnable(const struct vcpu *v)
{
    return !READ_ONCE(v->pause_flags) && v->domain->state == DOMST_running;
}

struct vcpu *idle_vcpu_of(unsigned int cpu)
{
    return per_cpu(sched, cpu).idle;
}

void vcpu_runstate_change(struct vcpu *v, int state, uint64_t now)
{
    struct vcpu_runstate_info *r = &v->runstate;

    if (now > r->state_entry_time)
        r->time[r->state & 3] += now - r->state_entry_time;
    r->state = state;
    r->state_entry_time = now;
}

static int state_after_running(const struct vcpu *v)
{
    if (vcpu_runnable(v))
        return RUNSTATE_runnable;
    return (v->pause_flags & VPF_blocked) && v->domain->state == DOMST_running
               ? RUNSTATE_blocked
               : RUNSTATE_offline;
}

static void slice_expired(void *data)
{
    raise_softirq(SCHEDULE_SOFTIRQ);
}

static void schedule(void)
{
    struct sched_cpu *sc = &this_cpu(sched);
    struct vcpu *prev = current, *next;
    s_time_t now = NOW();

    spin_lock_irq(&sc->lock);
    if (!is_idle_vcpu(prev) && !prev->on_runq && vcpu_runnable(prev)) {
        list_add_tail(&prev->runq_elem, &sc->runq);
        prev->on_runq = true;
    }
    if (list_empty(&sc->runq)) {
        next = sc->idle;
    } else {
        next = list_first_entry(&sc->runq, struct vcpu, runq_elem);
        list_del(&next->runq_elem);
        next->on_runq = false;
    }
    prev->is_running = false;
    next->is_running = true;
    spin_unlock_irq(&sc->lock);

    if (is_idle_vcpu(next))
        stop_timer(&sc->slice_timer);
    else
        set_timer(&sc->slice_timer, now + TIME_SLICE);
    if (next == prev)
        return;
    prev->run_time += (uint64_t)(now - (s_time_t)prev->last_start);
    next->last_start = (uint64_t)now;
    if (!is_idle_vcpu(prev))
        vcpu_runstate_change(prev, state_after_running(prev), (uint64_t)now);
    if (!is_idle_vcpu(next))
        vcpu_runstate_change(next, RUNSTATE_running, (uint64_t)now);
    current = next;
    context_switch(prev, next);
}

void vcpu_wake(struct vcpu *v)
{
    struct sched_cpu *sc = &per_cpu(sched, v->processor);
    unsigned long flags = spin_lock_irqsave(&sc->lock);
    bool kick = false;

    if (!v->on_runq && !v->is_running && vcpu_runnable(v)) {
        list_add_tail(&v->runq_elem, &sc->runq);
        v->on_runq = true;
        /* The CPU idles, or is about to: schedule() picks under this lock, before
         * current changes, so current would miss a wake-up in between. */
        kick = sc->idle->is_running;
    }
    spin_unlock_irqrestore(&sc->lock, flags);
    if (kick)
        cpu_raise_softirq(v->processor, SCHEDULE_SOFTIRQ);
}

void vcpu_sleep(struct vcpu *v)
{
    struct sched_cpu *sc = &per_cpu(sched, v->processor);
    unsigned long flags = spin_lock_irqsave(&sc->lock);
    bool running = v->is_running;

    if (v->on_runq && !vcpu_runnable(v)) {
        list_del(&v->runq_elem);
        v->on_runq = false;
    }
    spin_unlock_irqrestore(&sc->lock, flags);
    if (running)
        cpu_raise_softirq(v->processor, SCHEDULE_SOFTIRQ);
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

void vcpu_yield(void)
{
    raise_softirq(SCHEDULE_SOFTIRQ);
}

void sched_init_cpu(unsigned int cpu)
{
    struct sched_cpu *sc = &per_cpu(sched, cpu);
    struct vcpu *idle = xzalloc_bytes(sizeof(*idle));

    if (!idle)
        panic("no memory for CPU %u's idle vCPU", cpu);
    spin_lock_init(&sc->lock);
    list_init(&sc->runq);
    init_timer(&sc->slice_timer, slice_expired, NULL, cpu);
    idle->processor = cpu;
    idle->is_running = true;
    idle->stack = per_cpu(cpu_info, cpu).stack;
    list_init(&idle->runq_elem);
    sc->idle = idle;
    per_cpu(cpu_info, cpu).curr_vcpu = idle;
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
            printk("  vcpu %u: CPU %u, flags %#x%s, %lu ms run, rip %016lx\n", i, v->processor,
                   v->pause_flags, v->is_running ? " running" : "",
                   (unsigned long)(v->run_time / 1000000), v->arch.regs->rip);
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
