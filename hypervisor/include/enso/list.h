/* Intrusive doubly linked lists with a sentinel head. */
#ifndef ENSO_LIST_H
#define ENSO_LIST_H

#include <enso/types.h>

struct list_head {
    struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void list_init(struct list_head *h) { h->next = h->prev = h; }
static inline bool list_empty(const struct list_head *h) { return h->next == h; }

static inline void __list_insert(struct list_head *n, struct list_head *prev,
                                 struct list_head *next)
{
    next->prev = n;
    n->next = next;
    n->prev = prev;
    prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *h) { __list_insert(n, h, h->next); }
static inline void list_add_tail(struct list_head *n, struct list_head *h) { __list_insert(n, h->prev, h); }

static inline void list_del(struct list_head *e)
{
    e->next->prev = e->prev;
    e->prev->next = e->next;
    e->next = e->prev = NULL;
}

#define list_entry(p, type, member) container_of(p, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)
#define list_for_each(p, h) for ((p) = (h)->next; (p) != (h); (p) = (p)->next)
#define list_for_each_safe(p, n, h) \
    for ((p) = (h)->next, (n) = (p)->next; (p) != (h); (p) = (n), (n) = (p)->next)
#define list_for_each_entry(e, h, member)                                              \
    for ((e) = list_entry((h)->next, __typeof__(*(e)), member); &(e)->member != (h);    \
         (e) = list_entry((e)->member.next, __typeof__(*(e)), member))
/* As list_for_each_entry, but e may be removed from the list in the body. */
#define list_for_each_entry_safe(e, n, h, member)                                     \
    for ((e) = list_entry((h)->next, __typeof__(*(e)), member),                         \
        (n) = list_entry((e)->member.next, __typeof__(*(e)), member);                   \
         &(e)->member != (h);                                                           \
         (e) = (n), (n) = list_entry((n)->member.next, __typeof__(*(e)), member))

#endif
