/*
 * Long hypervisor work that must not stall the guests (rebuilding a boot-time domain:
 * seconds of decompression under emulation) runs on an idle vCPU, in the idle loop of
 * whichever CPU is free first. At its preemption points (long_work_yield) pending
 * softirqs run, so timers fire and the scheduler may switch to a guest that has become
 * runnable; the work goes on when the CPU is idle again. It must therefore hold no lock
 * across a preemption point.
 */
#ifndef ENSO_IDLE_WORK_H
#define ENSO_IDLE_WORK_H

#include <enso/list.h>
#include <enso/long_work.h>

struct idle_work {
    struct list_head list;
    void (*fn)(struct idle_work *w);
};

/* Queue w (any context); an idle CPU runs it once, then w belongs to fn again. */
void idle_work_queue(struct idle_work *w);
/* Around the boot-time build: its preemption points run timers only. */
void idle_work_boot_phase(bool on);
/* From the idle loop: run queued work, one item at a time. */
void idle_work_run(void);

#endif
