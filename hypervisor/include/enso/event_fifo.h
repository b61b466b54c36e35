/*
 * The FIFO event-channel ABI (Xen 4.17's), which a domain switches to with
 * EVTCHNOP_init_control. Guest-visible state lives in guest frames:
 *
 * - an event array: one 32-bit event word per port, in pages the guest adds one at a
 *   time (EVTCHNOP_expand_array). A word holds PENDING, MASKED, LINKED and BUSY bits and
 *   a 17-bit LINK field naming the next port of its queue. A port whose page is not
 *   there yet has no word: its events are remembered in struct evtchn and raised when
 *   the page arrives.
 * - per vCPU, a control block (at an 8-byte aligned offset in a frame): a READY bit per
 *   priority and the head port of each of the 16 queues (priority 0 is the highest).
 *
 * enso keeps, per queue, the tail it last linked. Raising an event sets PENDING; if the
 * word is neither MASKED nor already LINKED it becomes LINKED and is appended: the
 * previous tail's LINK field points at it, or, when the queue is empty (the tail no
 * longer LINKED: the guest has consumed it), the head is written and the READY bit and
 * evtchn_upcall_pending are set. The guest changes the same words at the same time
 * (clears PENDING, LINKED and LINK as it consumes, sets and clears MASKED), so every
 * change is an atomic operation, and the LINK field is written with a compare-exchange
 * that succeeds only while the tail is still LINKED. While the guest keeps changing the
 * tail word enso marks it BUSY, which a guest honours by not unmasking it locally.
 *
 * event_fifo.c is that queue logic, pure (host unit-tested); it runs under the
 * domain's FIFO lock (struct evtchn_fifo.lock), taken by the event-channel code.
 * event_fifo_frames.c takes and releases the guest frames.
 */
#ifndef ENSO_EVENT_FIFO_H
#define ENSO_EVENT_FIFO_H

#include <enso/event.h>
#include <enso/spinlock.h>
#include <enso/types.h>
#include <public/event_channel.h>
#include <public/xen.h>

#define EVTCHN_FIFO_WORDS_PER_PAGE ((unsigned int)(PAGE_SIZE / sizeof(event_word_t)))
#define EVTCHN_FIFO_MAX_PAGES (EVTCHN_FIFO_NR_CHANNELS / EVTCHN_FIFO_WORDS_PER_PAGE)

struct evtchn_fifo_queue {
    uint32_t *head;        /* in the vCPU's control block */
    evtchn_port_t tail;    /* the port last appended here; 0: none */
    uint8_t priority;
};

struct evtchn_fifo_vcpu {
    struct evtchn_fifo_control_block *control; /* NULL until init_control for this vCPU */
    struct evtchn_fifo_queue queue[EVTCHN_FIFO_MAX_QUEUES];
};

struct evtchn_fifo {
    spinlock_t lock;               /* everything below, and the FIFO fields of ports */
    unsigned int nr_ports;         /* ports [0, nr_ports) have an event word */
    event_word_t *page[EVTCHN_FIFO_MAX_PAGES];
    unsigned int nr_vcpus;
    struct evtchn_fifo_vcpu *vcpu[]; /* by vCPU id; NULL for an id without a vCPU */
};

/* ---- queue logic (event_fifo.c), f->lock held ---- */

/* A vCPU's queues, with no control block yet. */
void evtchn_fifo_vcpu_init(struct evtchn_fifo_vcpu *fv);
/* The queues' heads live in cb from now on. */
void evtchn_fifo_attach_control(struct evtchn_fifo_vcpu *fv,
                                struct evtchn_fifo_control_block *cb);
/* The event array has all the pages it can have. */
bool evtchn_fifo_array_full(const struct evtchn_fifo *f);
/* Add a page of event words; returns the first port it covers, or -ENOSPC. */
int evtchn_fifo_add_page(struct evtchn_fifo *f, event_word_t *words);
/* The port's event word, NULL if its page is not there. */
event_word_t *evtchn_fifo_word(const struct evtchn_fifo *f, evtchn_port_t port);

/* A port is being bound: its next event goes to the default priority's queue. */
void evtchn_fifo_port_init(struct evtchn *chn);
/* 0, or -EINVAL for a priority beyond EVTCHN_FIFO_PRIORITY_MIN. Takes effect with the
 * port's next link: a port already on a queue stays there. */
int evtchn_fifo_set_priority(struct evtchn *chn, unsigned int priority);

/*
 * Raise an event on port (chn) for vCPU vcpu_id, whose vcpu_info is vi (NULL: none).
 * Returns EVTCHN_NEWLY_PENDING (pollers may wake) and EVTCHN_KICK (evtchn_upcall_pending
 * went from 0 to 1: the vCPU must be kicked). Without a word the event is remembered
 * in chn (evtchn_fifo_pending); a vCPU without a control block loses it.
 */
unsigned int evtchn_fifo_set_pending(struct evtchn_fifo *f, unsigned int vcpu_id,
                                     struct vcpu_info *vi, struct evtchn *chn,
                                     evtchn_port_t port);
void evtchn_fifo_clear_pending(struct evtchn_fifo *f, evtchn_port_t port);
/* EVTCHNOP_unmask: clear MASKED; a port still PENDING is raised again on vcpu_id. */
unsigned int evtchn_fifo_unmask(struct evtchn_fifo *f, unsigned int vcpu_id,
                                struct vcpu_info *vi, struct evtchn *chn,
                                evtchn_port_t port);
bool evtchn_fifo_is_pending(const struct evtchn_fifo *f, evtchn_port_t port);
/* A port without a word counts as masked. */
bool evtchn_fifo_is_masked(const struct evtchn_fifo *f, evtchn_port_t port);
/* Still LINKED: the guest has not consumed it, so the port cannot be reused yet. */
bool evtchn_fifo_is_busy(const struct evtchn_fifo *f, evtchn_port_t port);

/* ---- the guest frames (event_fifo_frames.c) ---- */

struct domain;

/* Queues for each of d's vCPUs, no frames; NULL if out of memory. */
struct evtchn_fifo *evtchn_fifo_create(struct domain *d);
/*
 * Take d's frame gfn (an MFN: PV) as vCPU vcpu_id's control block, at offset (checked
 * by the caller): a general and a writable-type reference held until release. -EINVAL
 * if the vCPU has one already or the frame is not d's or cannot be writable.
 */
int evtchn_fifo_map_control(struct domain *d, struct evtchn_fifo *f, unsigned int vcpu_id,
                            uint64_t gfn, uint32_t offset);
/* The same for a page of the event array: the first port it covers, -ENOSPC when the
 * array is full (before the frame is looked at), -EINVAL for a bad frame. */
int evtchn_fifo_map_page(struct domain *d, struct evtchn_fifo *f, uint64_t gfn);
/* Drop every frame reference and free f. */
void evtchn_fifo_release(struct evtchn_fifo *f);

#endif
