/*
 * A binary min-heap of timers ordered by expires: the per-CPU timer queue's data
 * structure, without any locking (the caller holds the queue's lock). The slot array is
 * supplied by the caller, so nothing here allocates and every operation is safe in
 * interrupt context.
 *
 * Invariants: slot[0..nr) are the queued timers, each parent expires no later than its
 * children, and slot[i]->heap_index == i + 1. Timers not in any heap have heap_index 0,
 * so a timer must start with heap_index 0 (e.g. zero-initialised).
 */
#ifndef ENSO_TIMER_HEAP_H
#define ENSO_TIMER_HEAP_H

#include <enso/types.h>
#include <enso/timer.h>

struct timer_heap {
    struct timer **slot;
    unsigned int nr, cap;
};

void timer_heap_init(struct timer_heap *h, struct timer **storage, unsigned int cap);
/* 0, -ENOSPC when the heap is full, -EEXIST when t is already queued somewhere. */
int timer_heap_add(struct timer_heap *h, struct timer *t);
/* Removes t if it is queued in h (any position, O(log n)); false if it is not. */
bool timer_heap_remove(struct timer_heap *h, struct timer *t);
/* The earliest timer, or NULL when empty. */
struct timer *timer_heap_peek(const struct timer_heap *h);
/* Remove and return the earliest timer, or NULL when empty. */
struct timer *timer_heap_pop(struct timer_heap *h);
/* Verify the heap property and every heap_index; printk the first violation. */
bool timer_heap_check(const struct timer_heap *h);

#endif
