/*
 * Event channels: HYPERVISOR_event_channel_op(int cmd, void *arg), arg pointing at the
 * structure named for each EVTCHNOP_* command. Numbers and layouts follow Xen 4.17's
 * 64-bit x86 ABI; byte offsets are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_EVENT_CHANNEL_H
#define ENSO_PUBLIC_EVENT_CHANNEL_H

#include <public/xen.h>

#define EVTCHNOP_bind_interdomain 0 /* struct evtchn_bind_interdomain */
#define EVTCHNOP_bind_virq 1        /* struct evtchn_bind_virq */
#define EVTCHNOP_bind_pirq 2        /* struct evtchn_bind_pirq */
#define EVTCHNOP_close 3            /* struct evtchn_close */
#define EVTCHNOP_send 4             /* struct evtchn_send */
#define EVTCHNOP_status 5           /* struct evtchn_status */
#define EVTCHNOP_alloc_unbound 6    /* struct evtchn_alloc_unbound */
#define EVTCHNOP_bind_ipi 7         /* struct evtchn_bind_ipi */
#define EVTCHNOP_bind_vcpu 8        /* struct evtchn_bind_vcpu */
#define EVTCHNOP_unmask 9           /* struct evtchn_unmask */
#define EVTCHNOP_reset 10           /* struct evtchn_reset */
#define EVTCHNOP_init_control 11    /* struct evtchn_init_control (FIFO ABI) */
#define EVTCHNOP_expand_array 12    /* struct evtchn_expand_array (FIFO ABI) */
#define EVTCHNOP_set_priority 13    /* struct evtchn_set_priority (FIFO ABI) */

typedef uint32_t evtchn_port_t;
ENSO_DEFINE_GUEST_HANDLE(evtchn_port_t, evtchn_port_t);

/* Ports of the 2-level ABI: one bit each in shared_info.evtchn_pending/mask, i.e.
 * 64 words of 64 bits. */
#define EVTCHN_2L_NR_CHANNELS 4096U

/* A fresh port in dom that remote_dom may later bind to. */
struct evtchn_alloc_unbound {
    domid_t dom;        /* 0: in */
    domid_t remote_dom; /* 2: in */
    evtchn_port_t port; /* 4: out */
};                      /* 8 bytes */

/* Connects a new local port to an unbound port of remote_dom. */
struct evtchn_bind_interdomain {
    domid_t remote_dom;        /* 0: in */
    evtchn_port_t remote_port; /* 4: in */
    evtchn_port_t local_port;  /* 8: out */
};                             /* 12 bytes */

struct evtchn_bind_virq {
    uint32_t virq;      /* 0: in, VIRQ_* */
    uint32_t vcpu;      /* 4: in */
    evtchn_port_t port; /* 8: out */
};                      /* 12 bytes */

#define BIND_PIRQ__WILL_SHARE 1

struct evtchn_bind_pirq {
    uint32_t pirq;      /* 0: in */
    uint32_t flags;     /* 4: in, BIND_PIRQ__* */
    evtchn_port_t port; /* 8: out */
};                      /* 12 bytes */

struct evtchn_bind_ipi {
    uint32_t vcpu;      /* 0: in */
    evtchn_port_t port; /* 4: out */
};                      /* 8 bytes */

struct evtchn_close {
    evtchn_port_t port; /* 0: in */
};                      /* 4 bytes */

struct evtchn_send {
    evtchn_port_t port; /* 0: in */
};                      /* 4 bytes */

/* evtchn_status.status */
#define EVTCHNSTAT_closed 0      /* not in use */
#define EVTCHNSTAT_unbound 1     /* waiting for a remote domain to bind */
#define EVTCHNSTAT_interdomain 2 /* connected to a port of another domain */
#define EVTCHNSTAT_pirq 3        /* bound to a physical IRQ */
#define EVTCHNSTAT_virq 4        /* bound to a VIRQ */
#define EVTCHNSTAT_ipi 5         /* bound to an IPI */

struct evtchn_status {
    domid_t dom;                /* 0: in */
    evtchn_port_t port;         /* 4: in */
    uint32_t status;            /* 8: out, EVTCHNSTAT_* */
    uint32_t vcpu;              /* 12: out, vCPU the port notifies */
    union {
        struct {
            domid_t dom;        /* 16 */
        } unbound;
        struct {
            domid_t dom;        /* 16 */
            evtchn_port_t port; /* 20 */
        } interdomain;
        uint32_t pirq;          /* 16 */
        uint32_t virq;          /* 16 */
    } u;                        /* 16 */
};                              /* 24 bytes */

struct evtchn_bind_vcpu {
    evtchn_port_t port; /* 0: in */
    uint32_t vcpu;      /* 4: in */
};                      /* 8 bytes */

struct evtchn_unmask {
    evtchn_port_t port; /* 0: in */
};                      /* 4 bytes */

struct evtchn_reset {
    domid_t dom; /* 0: in */
};               /* 2 bytes */

/* FIFO ABI: registers a vCPU's control block, at offset in frame control_gfn. */
struct evtchn_init_control {
    uint64_t control_gfn; /* 0: in */
    uint32_t offset;      /* 8: in */
    uint32_t vcpu;        /* 12: in */
    uint8_t link_bits;    /* 16: out */
    uint8_t _pad[7];      /* 17 */
};                        /* 24 bytes */

/* FIFO ABI: adds a page of event words. */
struct evtchn_expand_array {
    uint64_t array_gfn; /* 0: in */
};                      /* 8 bytes */

struct evtchn_set_priority {
    evtchn_port_t port; /* 0: in */
    uint32_t priority;  /* 4: in, EVTCHN_FIFO_PRIORITY_* range */
};                      /* 8 bytes */

/* Argument of the old __HYPERVISOR_event_channel_op_compat: command plus arguments. */
struct evtchn_op {
    uint32_t cmd; /* 0: EVTCHNOP_* */
    union {
        struct evtchn_alloc_unbound alloc_unbound;
        struct evtchn_bind_interdomain bind_interdomain;
        struct evtchn_bind_virq bind_virq;
        struct evtchn_bind_pirq bind_pirq;
        struct evtchn_bind_ipi bind_ipi;
        struct evtchn_close close;
        struct evtchn_send send;
        struct evtchn_status status;
        struct evtchn_bind_vcpu bind_vcpu;
        struct evtchn_unmask unmask;
    } u;          /* 4 */
};                /* 28 bytes */

ENSO_DEFINE_GUEST_HANDLE(evtchn_op, struct evtchn_op);

/*
 * FIFO ABI. A guest switches to it with EVTCHNOP_init_control (per vCPU: a control
 * block at an 8-byte aligned offset in one of its frames) and gives the event array
 * page by page with EVTCHNOP_expand_array (1024 words a page, 128 pages at most).
 * Each port has a queue priority (0 is the highest; EVTCHNOP_set_priority).
 */
#define EVTCHN_FIFO_PRIORITY_MAX 0
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7
#define EVTCHN_FIFO_PRIORITY_MIN 15
#define EVTCHN_FIFO_MAX_QUEUES (EVTCHN_FIFO_PRIORITY_MIN + 1)

/* One port's word in the event array: the bits below, and in the low LINK_BITS the
 * next port of its queue (0: none). */
typedef uint32_t event_word_t;

#define EVTCHN_FIFO_PENDING 31 /* an event is waiting */
#define EVTCHN_FIFO_MASKED 30  /* not queued while set (EVTCHNOP_unmask to clear) */
#define EVTCHN_FIFO_LINKED 29  /* on a queue: the guest clears it as it consumes */
#define EVTCHN_FIFO_BUSY 28    /* the hypervisor is linking from this word */
#define EVTCHN_FIFO_LINK_BITS 17
#define EVTCHN_FIFO_LINK_MASK ((1 << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1 << EVTCHN_FIFO_LINK_BITS)

struct evtchn_fifo_control_block {
    uint32_t ready;                          /* 0: bit per queue given a new head */
    uint32_t _rsvd;                          /* 4 */
    uint32_t head[EVTCHN_FIFO_MAX_QUEUES];   /* 8: first port of each queue */
};                                           /* 72 bytes */

#endif
