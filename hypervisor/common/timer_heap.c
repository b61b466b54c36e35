/*
 * Binary min-heap of timers. Positions are 0-based in slot[]; a timer's heap_index is
 * its position + 1 so that 0 can mean "not queued". Every move of a timer goes through
 * place() so that heap_index can never fall out of step with slot[].
 */
#include <enso/timer_heap.h>
#include <enso/errno.h>
#include <enso/printk.h>

static void place(struct timer_heap *h, unsigned int pos, struct timer *t)
{
    h->slot[pos] = t;
    t->heap_index = pos + 1;
}

/* Move t up from pos while it expires before its parent; t's old slot is a hole. */
static void sift_up(struct timer_heap *h, unsigned int pos, struct timer *t)
{
    while (pos > 0) {
        unsigned int parent = (pos - 1) / 2;

        if (h->slot[parent]->expires <= t->expires)
            break;
        place(h, pos, h->slot[parent]);
        pos = parent;
    }
    place(h, pos, t);
}

/* Move t down from pos while a child expires before it; t's old slot is a hole. */
static void sift_down(struct timer_heap *h, unsigned int pos, struct timer *t)
{
    for (;;) {
        unsigned int child = 2 * pos + 1;

        if (child >= h->nr)
            break;
        if (child + 1 < h->nr && h->slot[child + 1]->expires < h->slot[child]->expires)
            child++;
        if (t->expires <= h->slot[child]->expires)
            break;
        place(h, pos, h->slot[child]);
        pos = child;
    }
    place(h, pos, t);
}

void timer_heap_init(struct timer_heap *h, struct timer **storage, unsigned int cap)
{
    h->slot = storage;
    h->nr = 0;
    h->cap = cap;
}

int timer_heap_add(struct timer_heap *h, struct timer *t)
{
    if (t->heap_index)
        return -EEXIST;
    if (h->nr == h->cap)
        return -ENOSPC;
    h->nr++;
    sift_up(h, h->nr - 1, t);
    return 0;
}

bool timer_heap_remove(struct timer_heap *h, struct timer *t)
{
    unsigned int pos = t->heap_index - 1;
    struct timer *last;

    /* heap_index may belong to another CPU's heap: only trust it if slot[] agrees. */
    if (!t->heap_index || pos >= h->nr || h->slot[pos] != t)
        return false;
    t->heap_index = 0;
    last = h->slot[--h->nr];
    if (last == t)
        return true;
    /* The last timer fills the hole; it may belong above or below it. */
    if (pos > 0 && last->expires < h->slot[(pos - 1) / 2]->expires)
        sift_up(h, pos, last);
    else
        sift_down(h, pos, last);
    return true;
}

struct timer *timer_heap_peek(const struct timer_heap *h)
{
    return h->nr ? h->slot[0] : NULL;
}

struct timer *timer_heap_pop(struct timer_heap *h)
{
    struct timer *t = timer_heap_peek(h);

    if (t)
        timer_heap_remove(h, t);
    return t;
}

bool timer_heap_check(const struct timer_heap *h)
{
    if (h->nr > h->cap) {
        printk(LOG_ERR "timer_heap: %u timers in a heap of %u\n", h->nr, h->cap);
        return false;
    }
    for (unsigned int i = 0; i < h->nr; i++) {
        const struct timer *t = h->slot[i];

        if (!t || t->heap_index != i + 1) {
            printk(LOG_ERR "timer_heap: slot %u has a wrong heap_index\n", i);
            return false;
        }
        if (i > 0 && h->slot[(i - 1) / 2]->expires > t->expires) {
            printk(LOG_ERR "timer_heap: slot %u expires before its parent\n", i);
            return false;
        }
    }
    return true;
}
