/*
 * Softirqs: work raised in interrupt context and run later with interrupts on, from the
 * idle loop (and, later, on the way back to a guest). Per-CPU pending bits.
 */
#ifndef ENSO_SOFTIRQ_H
#define ENSO_SOFTIRQ_H

#include <enso/types.h>

enum {
    TIMER_SOFTIRQ,
    SCHEDULE_SOFTIRQ,
    KEYPRESS_SOFTIRQ,
    NR_SOFTIRQS
};

typedef void (*softirq_handler_t)(void);

void open_softirq(unsigned int nr, softirq_handler_t fn);
void raise_softirq(unsigned int nr);             /* on this CPU */
void cpu_raise_softirq(unsigned int cpu, unsigned int nr);
bool softirq_pending(unsigned int cpu);
/* Run every pending softirq of this CPU (interrupts may be on or off on entry). */
void do_softirq(void);
/* Only softirq nr, if pending on this CPU. */
void do_softirq_only(unsigned int nr);

#endif
