/* Software timers: a function to call on a given CPU once system time passes expires. */
#ifndef ENSO_TIMER_H
#define ENSO_TIMER_H

#include <enso/types.h>
#include <enso/time.h>

struct timer {
    s_time_t expires;            /* system time at which function runs */
    void (*function)(void *data);
    void *data;
    unsigned int heap_index;     /* position in its CPU's timer_heap + 1; 0 = not queued */
    uint16_t cpu;                /* CPU whose queue the timer belongs to */
    uint8_t status;              /* owned by the timer subsystem (timer.c) */
};

/*
 * Each CPU keeps its timers in a heap ordered by expiry; the earliest one programs that
 * CPU's one-shot timer interrupt, which raises TIMER_SOFTIRQ to run what has expired.
 * A timer runs on the CPU given to init_timer until migrate_timer moves it. Callbacks
 * run with interrupts on and no lock held, so they may re-arm their own timer (that is
 * how periodic timers work). A callback never runs before system time reaches expires.
 */
void init_timer(struct timer *t, void (*fn)(void *), void *data, unsigned int cpu);
/* (Re)arm t to fire at system time expires. Returns -ENOSPC if the queue is full; a
 * killed timer stays off (0). */
int set_timer(struct timer *t, s_time_t expires);
void stop_timer(struct timer *t);
/* From now on t's callback runs on `cpu` (an active timer keeps its expiry). */
void migrate_timer(struct timer *t, unsigned int cpu);
/*
 * Stop t for good: set_timer does nothing to it afterwards, and once this returns its
 * callback is not running on any other CPU, so the memory holding t may be freed (t's
 * own callback may kill it too). init_timer makes it usable again.
 */
void kill_timer(struct timer *t);
bool timer_is_active(const struct timer *t);
void timers_init(void);          /* once, on the boot CPU */
void timers_init_cpu(void);      /* on each CPU, before its first timer */

#endif
