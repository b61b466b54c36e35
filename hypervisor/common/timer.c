/* Per-CPU software timers on top of the one-shot timer interrupt. */
#include <enso/errno.h>
#include <enso/keyhandler.h>
#include <enso/printk.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/spinlock.h>
#include <enso/symbols.h>
#include <enso/timer.h>
#include <enso/timer_heap.h>
#include <asm/processor.h>

#define TIMERS_PER_CPU 512

enum { TIMER_INACTIVE, TIMER_ACTIVE, TIMER_KILLED };

struct cpu_timers {
    spinlock_t lock;         /* protects heap and every queued timer's fields */
    struct timer_heap heap;
    struct timer *slots[TIMERS_PER_CPU];
    unsigned long fired;
    struct timer *running;   /* whose callback this CPU is running (kill_timer waits) */
};
static DEFINE_PER_CPU(struct cpu_timers, timers);

void init_timer(struct timer *t, void (*fn)(void *), void *data, unsigned int cpu)
{
    t->expires = 0;
    t->function = fn;
    t->data = data;
    t->heap_index = 0;
    t->cpu = (uint16_t)cpu;
    t->status = TIMER_INACTIVE;
}

/* The heap head changed: reprogram the hardware, locally or by poking the owner CPU. */
static void head_changed(unsigned int cpu, struct cpu_timers *ct)
{
    if (cpu == smp_processor_id()) {
        struct timer *first = timer_heap_peek(&ct->heap);
        arch_timer_program(first ? MAX(first->expires, 1) : 0);
    } else {
        cpu_raise_softirq(cpu, TIMER_SOFTIRQ);
    }
}

/*
 * Lock the queue t belongs to. migrate_timer changes t->cpu while it holds both queues'
 * locks, so t->cpu is only stable once the lock of the queue it names is held.
 */
static struct cpu_timers *lock_timer(struct timer *t, unsigned long *flags)
{
    for (;;) {
        unsigned int cpu = READ_ONCE(t->cpu);
        struct cpu_timers *ct = &per_cpu(timers, cpu);

        *flags = spin_lock_irqsave(&ct->lock);
        if (READ_ONCE(t->cpu) == cpu)
            return ct;
        spin_unlock_irqrestore(&ct->lock, *flags);
    }
}

int set_timer(struct timer *t, s_time_t expires)
{
    unsigned long flags;
    struct cpu_timers *ct = lock_timer(t, &flags);
    int rc;

    if (t->status == TIMER_KILLED) {
        spin_unlock_irqrestore(&ct->lock, flags);
        return 0;
    }
    if (t->status == TIMER_ACTIVE)
        timer_heap_remove(&ct->heap, t);
    t->expires = expires;
    rc = timer_heap_add(&ct->heap, t);
    t->status = rc ? TIMER_INACTIVE : TIMER_ACTIVE;
    if (!rc && timer_heap_peek(&ct->heap) == t)
        head_changed(t->cpu, ct);
    spin_unlock_irqrestore(&ct->lock, flags);
    return rc;
}

void stop_timer(struct timer *t)
{
    unsigned long flags;
    struct cpu_timers *ct = lock_timer(t, &flags);

    if (t->status == TIMER_ACTIVE) {
        timer_heap_remove(&ct->heap, t);
        t->status = TIMER_INACTIVE;
    }
    spin_unlock_irqrestore(&ct->lock, flags);
}

void migrate_timer(struct timer *t, unsigned int new_cpu)
{
    struct cpu_timers *from, *to;
    unsigned long flags;
    unsigned int old;

    /* Both queues locked, lower CPU first, and t still on the one we locked as its own. */
    for (;;) {
        old = READ_ONCE(t->cpu);
        if (old == new_cpu)
            return;
        from = &per_cpu(timers, old);
        to = &per_cpu(timers, new_cpu);
        flags = spin_lock_irqsave(old < new_cpu ? &from->lock : &to->lock);
        spin_lock(old < new_cpu ? &to->lock : &from->lock);
        if (READ_ONCE(t->cpu) == old)
            break;
        spin_unlock(&from->lock);
        spin_unlock_irqrestore(&to->lock, flags);
    }
    if (t->status == TIMER_ACTIVE) {
        timer_heap_remove(&from->heap, t);
        if (timer_heap_add(&to->heap, t)) {
            timer_heap_add(&from->heap, t); /* the new queue is full: stay where it was */
            goto out;
        }
        if (timer_heap_peek(&to->heap) == t)
            head_changed(new_cpu, to);
    }
    WRITE_ONCE(t->cpu, (uint16_t)new_cpu);
out:
    spin_unlock(&from->lock);
    spin_unlock_irqrestore(&to->lock, flags);
}

void kill_timer(struct timer *t)
{
    unsigned long flags;
    struct cpu_timers *ct = lock_timer(t, &flags);
    unsigned int cpu;

    if (t->status == TIMER_ACTIVE)
        timer_heap_remove(&ct->heap, t);
    t->status = TIMER_KILLED;
    spin_unlock_irqrestore(&ct->lock, flags);

    /* A callback that had already started may still be running elsewhere; it can no
     * longer re-arm t. (On this CPU it can only be the caller itself.) */
    for_each_cpu(cpu, &cpu_online_map)
        while (cpu != smp_processor_id() &&
               __atomic_load_n(&per_cpu(timers, cpu).running, __ATOMIC_ACQUIRE) == t)
            cpu_relax();
}

bool timer_is_active(const struct timer *t)
{
    return READ_ONCE(t->status) == TIMER_ACTIVE;
}

static void timer_softirq(void)
{
    struct cpu_timers *ct = &this_cpu(timers);
    unsigned long flags = spin_lock_irqsave(&ct->lock);
    struct timer *t;

    while ((t = timer_heap_peek(&ct->heap)) && t->expires <= NOW()) {
        timer_heap_pop(&ct->heap);
        t->status = TIMER_INACTIVE;
        ct->fired++;
        ct->running = t;
        spin_unlock_irqrestore(&ct->lock, flags);
        t->function(t->data);
        flags = spin_lock_irqsave(&ct->lock);
        __atomic_store_n(&ct->running, NULL, __ATOMIC_RELEASE);
    }
    t = timer_heap_peek(&ct->heap);
    arch_timer_program(t ? MAX(t->expires, 1) : 0);
    spin_unlock_irqrestore(&ct->lock, flags);
}

void timers_init_cpu(void)
{
    struct cpu_timers *ct = &this_cpu(timers);

    spin_lock_init(&ct->lock);
    timer_heap_init(&ct->heap, ct->slots, TIMERS_PER_CPU);
}

static void dump_timers(char key)
{
    s_time_t now = NOW();
    unsigned int cpu;

    printk("'%c' pressed -> timers (NOW = %lld ns)\n", key, (long long)now);
    for_each_cpu(cpu, &cpu_online_map) {
        struct cpu_timers *ct = &per_cpu(timers, cpu);
        unsigned long flags = spin_lock_irqsave(&ct->lock);
        printk(" CPU %u: %u queued, %lu fired\n", cpu, ct->heap.nr, ct->fired);
        for (unsigned int i = 0; i < ct->heap.nr; i++) {
            struct timer *t = ct->heap.slot[i];
            uint64_t off;
            const char *fn = symbol_lookup((uint64_t)t->function, &off);
            printk("   in %8lld us: %s\n", (long long)(t->expires - now) / 1000, fn ? fn : "?");
        }
        spin_unlock_irqrestore(&ct->lock, flags);
    }
}
register_keyhandler('a', dump_timers, "dump the timer queues");

void timers_init(void)
{
    open_softirq(TIMER_SOFTIRQ, timer_softirq);
    timers_init_cpu();
}
