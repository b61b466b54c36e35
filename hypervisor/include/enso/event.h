/*
 * Event channels: a domain's ports, what each is bound to, and how an event reaches a
 * vCPU. Semantics and errnos are Xen 4.17's, with both of its ABIs: 2-level until the
 * domain calls EVTCHNOP_init_control, FIFO from then on (<enso/event_fifo.h>) until
 * EVTCHNOP_reset takes it back to 2-level.
 *
 * A port is free, reserved (port 0), unbound (waiting for one given domain to bind to
 * it), interdomain (connected to a port of a domain, possibly the same one, or to a
 * back end inside enso), a VIRQ or an IPI. Each notifies one of the domain's vCPUs.
 * Ports live in buckets of EVTCHN_PER_BUCKET, allocated as the lowest free port grows
 * into them, and buckets in groups of EVTCHN_BUCKETS_PER_GROUP; a port outside the
 * buckets is "not valid" (-EINVAL) while a free port inside them is "closed", as on
 * Xen, whose buckets hold 64 ports too. The 2-level ABI has 4096 ports, FIFO 131072.
 *
 * Sending an event (2-level): set the port's bit in shared_info.evtchn_pending; if the
 * port is not masked, set the word's bit in the target vcpu_info.evtchn_pending_sel
 * and evtchn_upcall_pending, and kick the vCPU: wake it if it blocks, make a running
 * one come through its exit path, which enters the guest's event callback. (FIFO: the
 * port joins its priority's queue, see event_fifo.h; the kick is the same.)
 *
 * Locking: d->events.lock guards d's ports and buckets. An operation that needs two
 * domains (binding or closing an interdomain channel) takes a global pair lock first,
 * then both domain locks, so no two domain locks are ever taken in conflicting orders;
 * sending on an interdomain port holds only the sender's lock, which keeps the other
 * end from closing (closing needs both). domain_list_lock, when held, comes first.
 * The FIFO lock of a domain (events.fifo->lock) comes last: it is taken, under one of
 * the domain locks, around every use of the FIFO queues.
 */
#ifndef ENSO_EVENT_H
#define ENSO_EVENT_H

#include <enso/list.h>
#include <enso/spinlock.h>
#include <enso/time.h>
#include <enso/types.h>
#include <public/event_channel.h>
#include <public/xen.h>

struct domain;
struct vcpu;
struct evtchn_fifo;

#define EVTCHN_PER_BUCKET 64
#define EVTCHN_BUCKETS_PER_GROUP 64
#define EVTCHN_PER_GROUP (EVTCHN_PER_BUCKET * EVTCHN_BUCKETS_PER_GROUP)
#define EVTCHN_MAX_PORTS EVTCHN_FIFO_NR_CHANNELS /* the larger ABI's */
#define EVTCHN_GROUPS (EVTCHN_MAX_PORTS / EVTCHN_PER_GROUP)

enum evtchn_state {
    ECS_FREE,
    ECS_RESERVED,     /* port 0: never bound, reads as closed */
    ECS_UNBOUND,
    ECS_INTERDOMAIN,
    ECS_VIRQ,
    ECS_IPI,
};

/* A back end inside enso that a guest port may be connected to (the domU console). */
typedef void (*evtchn_enso_notify_t)(struct domain *d);

struct evtchn {
    uint8_t state;             /* enum evtchn_state */
    uint8_t priority;          /* FIFO: the queue its next event joins */
    uint16_t notify_vcpu;
    /* FIFO: the queue it joined last (vCPU, priority), and an event raised while it
     * had no event word, still to be raised when its page arrives. As on Xen, neither
     * is reset when the port is closed. */
    uint16_t fifo_last_vcpu;
    uint8_t fifo_last_priority;
    bool fifo_pending;
    union {
        domid_t remote_domid;  /* unbound: who may bind */
        struct {
            struct domain *dom;          /* NULL: the other end is enso (enso_notify) */
            evtchn_port_t port;
            evtchn_enso_notify_t enso_notify;
        } interdomain;
        unsigned int virq;
    } u;
};

struct domain_events {
    spinlock_t lock;
    bool ready;                /* evtchn_init has run */
    bool dead;                 /* evtchn_destroy has run: no new ports */
    unsigned int valid;        /* ports [0, valid) have storage */
    uint64_t poll_mask;        /* vCPUs inside SCHEDOP_poll, by id */
    struct evtchn_fifo *fifo;  /* the FIFO ABI's state; NULL: 2-level */
    struct evtchn **group[EVTCHN_GROUPS]; /* group[g][b]: bucket b of group g */
    struct evtchn *group0[EVTCHN_BUCKETS_PER_GROUP]; /* group 0, always there */
    struct evtchn first[EVTCHN_PER_BUCKET]; /* bucket 0, always there */
};

struct vcpu_events {
    evtchn_port_t virq_port[NR_VIRQS]; /* per-vCPU VIRQs (vCPU 0: also the global ones) */
    int poll_port;             /* in SCHEDOP_poll: the one port, -1 for several, 0 none */
    bool poll_timed;           /* on the poll timeout list */
    s_time_t poll_deadline;
    struct list_head poll_elem;
};

/* Set up d's ports (port 0 reserved); before anything else touches them. */
void evtchn_init(struct domain *d);
/*
 * Close every port of d, the other ends of its interdomain channels included (they
 * become unbound, as on Xen), take its vCPUs off the poll timeout list and free its
 * buckets. For a domain that is off the domain list, whose vCPUs no longer run, before
 * its vCPUs and shared_info are freed. Harmless on a domain never set up.
 */
void evtchn_destroy(struct domain *d);

/* A port of d connected to a back end inside enso; the port or -errno. */
int evtchn_alloc_enso_port(struct domain *d, evtchn_enso_notify_t notify);
/* The back end signals d on that port; nothing if the guest has closed it. */
void evtchn_notify_from_enso(struct domain *d, evtchn_port_t port);

/* VIRQs: per-vCPU ones to that vCPU, global ones to d's port bound on vCPU 0. */
bool virq_is_global(unsigned int virq);
void send_guest_vcpu_virq(struct vcpu *v, unsigned int virq);
void send_guest_global_virq(struct domain *d, unsigned int virq);

/* Kick v as a new event would (wake it if it blocks, IPI its CPU if it runs): for an
 * upcall or NMI made pending by vcpu_op.c. */
void evtchn_vcpu_kick(struct vcpu *v);

/* SCHEDOP_block: block the current vCPU until an event is pending (events unmasked). */
void vcpu_block_for_events(void);
/* SCHEDOP_poll once its arguments are checked (ports_va holds nr guest ports). */
long evtchn_poll(uint64_t ports_va, unsigned int nr, uint64_t timeout);

/* What raising an event did, in either ABI. */
#define EVTCHN_NEWLY_PENDING 1U /* the port was not pending before: wake its pollers */
#define EVTCHN_KICK 2U          /* evtchn_upcall_pending went from 0 to 1 */

/*
 * The 2-level ABI on a shared_info page, pure bit logic (event_2l.c). vi may be NULL
 * (a vCPU without vcpu_info): the port is then only marked pending.
 */
unsigned int evtchn_2l_set_pending(struct shared_info *s, struct vcpu_info *vi,
                                   evtchn_port_t port);
void evtchn_2l_clear_pending(struct shared_info *s, evtchn_port_t port);
/* Clears the mask bit; a port still pending is signalled again. True: kick the vCPU. */
bool evtchn_2l_unmask(struct shared_info *s, struct vcpu_info *vi, evtchn_port_t port);
bool evtchn_2l_is_pending(const struct shared_info *s, evtchn_port_t port);
bool evtchn_2l_is_masked(const struct shared_info *s, evtchn_port_t port);

/* What Xen calls local_events_need_delivery: an upcall is due on the next exit. */
static inline bool events_need_delivery(const struct vcpu_info *vi)
{
    return vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE);
}

#endif
