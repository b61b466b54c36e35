/*
 * Preemption points for long pure computations (decompressing a kernel image): they
 * call long_work_yield() every so often. The hypervisor points the hook at its
 * idle-work preemption (idle_work.h) while it runs such work on an idle vCPU; it is NULL
 * otherwise, and in host unit tests.
 */
#ifndef ENSO_LONG_WORK_H
#define ENSO_LONG_WORK_H

#include <enso/types.h>

/* How much output a decompressor produces between two preemption points. */
#define LONG_WORK_BYTES (64UL << 10)

extern void (*long_work_hook)(void);

static inline void long_work_yield(void)
{
    void (*fn)(void) = long_work_hook;

    if (fn)
        fn();
}

/* For a loop whose output position grows: yield each time pos crosses a multiple of
 * LONG_WORK_BYTES. *next starts at 0. */
static inline void long_work_progress(size_t pos, size_t *next)
{
    if (pos < *next)
        return;
    if (*next)
        long_work_yield();
    *next = (pos | (LONG_WORK_BYTES - 1)) + 1;
}

#endif
