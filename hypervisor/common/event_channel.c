/*
 * Event channels (see <enso/event.h>): event_channel_op, delivery to vCPUs, VIRQs,
 * enso's own back-end ports, SCHEDOP_block and SCHEDOP_poll's waiting, and teardown.
 * Every errno and the order in which the checks give them follow Xen 4.17 (measured
 * by guests/tests/events.c and events_fifo.c on both).
 */
#include <enso/errno.h>
#include <enso/event.h>
#include <enso/event_fifo.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/keyhandler.h>
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/timer.h>
#include <enso/xmalloc.h>

/* Xen 4.17's continuation of EVTCHNOP_reset, which a guest may also issue itself. */
#define EVTCHNOP_reset_cont 14

/* Taken before the locks of two domains (see event.h). */
static DEFINE_SPINLOCK(pair_lock);

/* Lockless for a sender into another domain: storage only grows while ports exist. */
static struct evtchn *port_chn(struct domain *d, evtchn_port_t port)
{
    struct evtchn **group;

    if (port >= __atomic_load_n(&d->events.valid, __ATOMIC_ACQUIRE))
        return NULL;
    group = d->events.group[port / EVTCHN_PER_GROUP];
    return &group[port / EVTCHN_PER_BUCKET % EVTCHN_BUCKETS_PER_GROUP]
                 [port % EVTCHN_PER_BUCKET];
}

static struct vcpu *domain_vcpu(struct domain *d, unsigned int id)
{
    return id < d->max_vcpus ? d->vcpu[id] : NULL;
}

/* Xen's "usable": a port that can be pending (bound in some way). */
static bool chn_usable(const struct evtchn *chn)
{
    return chn->state > ECS_RESERVED;
}

bool virq_is_global(unsigned int virq)
{
    return !(virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF ||
             virq == VIRQ_XENPMU);
}

/* ---- looking domains up ---- */

/* dom, DOMID_SELF included, with a reference to put_domain; NULL if there is none
 * (or it is still being built). */
static struct domain *get_any(domid_t dom)
{
    struct domain *d;

    if (dom == DOMID_SELF)
        dom = current->domain->domain_id;
    d = get_domain_by_id(dom);
    if (d && !__atomic_load_n(&d->events.ready, __ATOMIC_ACQUIRE)) {
        put_domain(d); /* still being built */
        d = NULL;
    }
    return d;
}

/* Xen's XSM_TARGET with the dummy policy: oneself, or a privileged caller. */
static bool may_act_on(const struct domain *d)
{
    return d == current->domain || current->domain->is_privileged;
}

static void lock_pair(struct domain *a, struct domain *b)
{
    spin_lock(&pair_lock);
    spin_lock(&a->events.lock);
    if (b != a)
        spin_lock(&b->events.lock);
}

static void unlock_pair(struct domain *a, struct domain *b)
{
    if (b != a)
        spin_unlock(&b->events.lock);
    spin_unlock(&a->events.lock);
    spin_unlock(&pair_lock);
}

/*
 * ---- the domain's ABI: 2-level until EVTCHNOP_init_control, FIFO from then on ----
 *
 * d->events.fifo changes under d's lock, with no interdomain channel to d able to
 * appear meanwhile; a sender into d holding only its own lock reads it atomically.
 */

static struct evtchn_fifo *fifo_of(const struct domain *d)
{
    return __atomic_load_n(&d->events.fifo, __ATOMIC_ACQUIRE);
}

static unsigned int abi_max_ports(const struct domain *d)
{
    return fifo_of(d) ? EVTCHN_FIFO_NR_CHANNELS : EVTCHN_2L_NR_CHANNELS;
}

/*
 * The event array and control blocks change under d's lock too (and the FIFO lock),
 * so a caller holding d's lock may read words without the FIFO lock: their bits are
 * changed atomically. The queues need the FIFO lock, which a sender into d takes.
 */

/* A port is being bound (no sender can see it yet). */
static void abi_port_init(struct domain *d, struct evtchn *chn)
{
    if (fifo_of(d))
        evtchn_fifo_port_init(chn);
}

/* EVTCHN_NEWLY_PENDING | EVTCHN_KICK for v. */
static unsigned int abi_set_pending(struct domain *d, struct vcpu *v, struct evtchn *chn,
                                    evtchn_port_t port)
{
    struct evtchn_fifo *f = fifo_of(d);
    unsigned int r;

    if (!f)
        return evtchn_2l_set_pending(d->shared_info, v->vcpu_info, port);
    spin_lock(&f->lock);
    r = evtchn_fifo_set_pending(f, v->vcpu_id, v->vcpu_info, chn, port);
    spin_unlock(&f->lock);
    return r;
}

/* EVTCHNOP_unmask of a bound port notifying v: what raising it again did. */
static unsigned int abi_unmask(struct domain *d, struct vcpu *v, struct evtchn *chn,
                               evtchn_port_t port)
{
    struct evtchn_fifo *f = fifo_of(d);
    unsigned int r;

    if (!f)
        return evtchn_2l_unmask(d->shared_info, v->vcpu_info, port) ? EVTCHN_KICK : 0;
    spin_lock(&f->lock);
    r = evtchn_fifo_unmask(f, v->vcpu_id, v->vcpu_info, chn, port);
    spin_unlock(&f->lock);
    return r;
}

/* The rest: d's lock held. */
static void abi_clear_pending(struct domain *d, evtchn_port_t port)
{
    struct evtchn_fifo *f = fifo_of(d);

    if (f)
        evtchn_fifo_clear_pending(f, port);
    else
        evtchn_2l_clear_pending(d->shared_info, port);
}

static bool abi_is_pending(struct domain *d, evtchn_port_t port)
{
    struct evtchn_fifo *f = fifo_of(d);

    return f ? evtchn_fifo_is_pending(f, port) : evtchn_2l_is_pending(d->shared_info, port);
}

static bool abi_is_masked(struct domain *d, evtchn_port_t port)
{
    struct evtchn_fifo *f = fifo_of(d);

    return f ? evtchn_fifo_is_masked(f, port) : evtchn_2l_is_masked(d->shared_info, port);
}

/* FIFO: a closed port still on a queue cannot be bound again until the guest has
 * taken it off. */
static bool abi_is_busy(struct domain *d, evtchn_port_t port)
{
    struct evtchn_fifo *f = fifo_of(d);

    return f && evtchn_fifo_is_busy(f, port);
}

/* ---- delivery ---- */

static void poll_cancel(struct vcpu *v);

/*
 * Wake v if it blocks. A poll ends here too: its bit in the poll mask goes, and
 * VPF_blocked is cleared once more after that (as Xen does), in case the poller was
 * still setting itself up and blocked again in between. Its deadline goes as well.
 */
static void vcpu_unblock(struct vcpu *v)
{
    struct domain_events *e = &v->domain->events;
    uint64_t bit = 1UL << v->vcpu_id;

    if (!(__atomic_fetch_and(&v->pause_flags, ~VPF_blocked, __ATOMIC_SEQ_CST) & VPF_blocked))
        return;
    if (v->events.poll_port) {
        v->events.poll_port = 0;
        if (__atomic_fetch_and(&e->poll_mask, ~bit, __ATOMIC_SEQ_CST) & bit)
            __atomic_fetch_and(&v->pause_flags, ~VPF_blocked, __ATOMIC_SEQ_CST);
    }
    poll_cancel(v);
    vcpu_wake(v);
}

/* evtchn_upcall_pending was just set: a running vCPU must pass its exit path soon. */
static void vcpu_kick(struct vcpu *v)
{
    bool running = READ_ONCE(v->is_running);

    vcpu_unblock(v);
    if (running && v != current && v->processor != smp_processor_id())
        smp_send_event_check(v->processor);
}

/* vcpu_op.c (a moved vcpu_info, VCPUOP_send_nmi): something other than a port needs v
 * to come through its exit path; the same kick as an event's. */
void evtchn_vcpu_kick(struct vcpu *v)
{
    vcpu_kick(v);
}

/* Pollers waiting for this port (or for any of several) wake up. */
static void check_pollers(struct domain *d, evtchn_port_t port)
{
    uint64_t mask = __atomic_load_n(&d->events.poll_mask, __ATOMIC_SEQ_CST);

    for (unsigned int id = 0; mask && id < d->max_vcpus; id++) {
        struct vcpu *v = d->vcpu[id];
        uint64_t bit = 1UL << id;
        int want;

        if (!(mask & bit) || !v)
            continue;
        want = READ_ONCE(v->events.poll_port);
        if ((want <= 0 || (evtchn_port_t)want == port) &&
            (__atomic_fetch_and(&d->events.poll_mask, ~bit, __ATOMIC_SEQ_CST) & bit)) {
            v->events.poll_port = 0;
            vcpu_unblock(v);
        }
    }
}

/* Called with d's lock held (or the other end's, for an interdomain send). */
static void set_pending(struct domain *d, unsigned int vcpu_id, evtchn_port_t port)
{
    struct vcpu *v = domain_vcpu(d, vcpu_id);
    unsigned int r;

    if (!v || !d->shared_info)
        return;
    r = abi_set_pending(d, v, port_chn(d, port), port);
    if (r & EVTCHN_KICK)
        vcpu_kick(v);
    if (r & EVTCHN_NEWLY_PENDING)
        check_pollers(d, port);
}

/* ---- ports ---- */

/* Storage for the next bucket (and its group); valid grows only once it is there. */
static int add_bucket(struct domain_events *e)
{
    unsigned int port = e->valid;
    struct evtchn ***group = &e->group[port / EVTCHN_PER_GROUP];
    struct evtchn *b;

    if (!*group) {
        *group = xzalloc_array(struct evtchn *, EVTCHN_BUCKETS_PER_GROUP);
        if (!*group)
            return -ENOMEM;
    }
    b = xzalloc_array(struct evtchn, EVTCHN_PER_BUCKET);
    if (!b)
        return -ENOMEM;
    (*group)[port / EVTCHN_PER_BUCKET % EVTCHN_BUCKETS_PER_GROUP] = b;
    __atomic_store_n(&e->valid, port + EVTCHN_PER_BUCKET, __ATOMIC_RELEASE);
    return 0;
}

/* Give port storage (whole buckets up to it); 0, or -EBUSY if it is in use. */
static int allocate_port(struct domain *d, evtchn_port_t port)
{
    if (port >= abi_max_ports(d))
        return -ENOSPC;
    if (port < d->events.valid)
        return port_chn(d, port)->state == ECS_FREE && !abi_is_busy(d, port) ? 0 : -EBUSY;
    while (port >= d->events.valid) {
        int rc = add_bucket(&d->events);

        if (rc)
            return rc;
    }
    return 0;
}

/* The lowest free port, with storage; -errno if none. d's lock held. */
static int get_free_port(struct domain *d)
{
    if (d->events.dead)
        return -EINVAL;
    for (evtchn_port_t port = 0; port < abi_max_ports(d); port++) {
        int rc = allocate_port(d, port);

        if (!rc)
            return (int)port;
        if (rc != -EBUSY)
            return rc;
    }
    return -ENOSPC;
}

static void free_chn(struct domain *d, struct evtchn *chn, evtchn_port_t port)
{
    /* A port bound again must not start out pending. */
    if (d->shared_info && chn_usable(chn))
        abi_clear_pending(d, port);
    chn->state = ECS_FREE;
    chn->notify_vcpu = 0;
}

void evtchn_init(struct domain *d)
{
    struct domain_events *e = &d->events;

    spin_lock_init(&e->lock);
    e->group[0] = e->group0;
    e->group0[0] = e->first;
    e->valid = EVTCHN_PER_BUCKET;
    e->first[0].state = ECS_RESERVED;
    __atomic_store_n(&e->ready, true, __ATOMIC_RELEASE);
}

static long alloc_unbound(struct evtchn_alloc_unbound *a)
{
    struct domain *d = get_any(a->dom);
    struct evtchn *chn;
    int port;

    if (!d)
        return -ESRCH;
    spin_lock(&d->events.lock);
    port = get_free_port(d);
    if (port >= 0 && !may_act_on(d))
        port = -EPERM; /* the port found stays free */
    if (port >= 0) {
        chn = port_chn(d, (evtchn_port_t)port);
        chn->state = ECS_UNBOUND;
        chn->u.remote_domid = a->remote_dom == DOMID_SELF ? current->domain->domain_id
                                                          : a->remote_dom;
        abi_port_init(d, chn);
        a->port = (evtchn_port_t)port;
    }
    spin_unlock(&d->events.lock);
    put_domain(d);
    return port < 0 ? port : 0;
}

static long bind_interdomain(struct evtchn_bind_interdomain *b)
{
    struct domain *ld = current->domain, *rd = get_any(b->remote_dom);
    struct evtchn *lchn, *rchn;
    int lport;

    if (!rd)
        return -ESRCH;
    lock_pair(ld, rd);
    lport = get_free_port(ld);
    if (lport < 0)
        goto out;
    rchn = port_chn(rd, b->remote_port);
    if (!rchn || rchn->state != ECS_UNBOUND || rchn->u.remote_domid != ld->domain_id) {
        lport = -EINVAL;
        goto out;
    }
    lchn = port_chn(ld, (evtchn_port_t)lport);
    lchn->state = ECS_INTERDOMAIN;
    lchn->u.interdomain.dom = rd;
    lchn->u.interdomain.port = b->remote_port;
    abi_port_init(ld, lchn);
    rchn->state = ECS_INTERDOMAIN;
    rchn->u.interdomain.dom = ld;
    rchn->u.interdomain.port = (evtchn_port_t)lport;
    /* As Xen: events sent to the unbound end were dropped, so signal the new one. */
    set_pending(ld, lchn->notify_vcpu, (evtchn_port_t)lport);
    b->local_port = (evtchn_port_t)lport;
out:
    unlock_pair(ld, rd);
    put_domain(rd);
    return lport < 0 ? lport : 0;
}

static long bind_virq(struct evtchn_bind_virq *b)
{
    struct domain *d = current->domain;
    struct vcpu *v;
    struct evtchn *chn;
    int port;

    if (b->virq >= NR_VIRQS || (virq_is_global(b->virq) && b->vcpu != 0))
        return -EINVAL;
    v = domain_vcpu(d, b->vcpu);
    if (!v)
        return -ENOENT;
    spin_lock(&d->events.lock);
    if (v->events.virq_port[b->virq]) {
        port = -EEXIST;
    } else if ((port = get_free_port(d)) >= 0) {
        chn = port_chn(d, (evtchn_port_t)port);
        chn->state = ECS_VIRQ;
        chn->notify_vcpu = (uint16_t)b->vcpu;
        chn->u.virq = b->virq;
        abi_port_init(d, chn);
        v->events.virq_port[b->virq] = (evtchn_port_t)port;
        b->port = (evtchn_port_t)port;
    }
    spin_unlock(&d->events.lock);
    return port < 0 ? port : 0;
}

static long bind_ipi(struct evtchn_bind_ipi *b)
{
    struct domain *d = current->domain;
    struct evtchn *chn;
    int port;

    if (!domain_vcpu(d, b->vcpu))
        return -ENOENT;
    spin_lock(&d->events.lock);
    port = get_free_port(d);
    if (port >= 0) {
        chn = port_chn(d, (evtchn_port_t)port);
        chn->state = ECS_IPI;
        chn->notify_vcpu = (uint16_t)b->vcpu;
        abi_port_init(d, chn);
        b->port = (evtchn_port_t)port;
    }
    spin_unlock(&d->events.lock);
    return port < 0 ? port : 0;
}

/* Close d's port; an interdomain peer's end turns unbound, waiting for d again. */
static long evtchn_close(struct domain *d, evtchn_port_t port)
{
    struct domain *rd = NULL;
    struct evtchn *chn;
    long rc = 0;

    spin_lock(&pair_lock);
    spin_lock(&d->events.lock);
    chn = port_chn(d, port);
    if (!chn || !chn_usable(chn)) {
        rc = -EINVAL;
        goto out;
    }
    switch (chn->state) {
    case ECS_VIRQ: {
        struct vcpu *v = d->vcpu[virq_is_global(chn->u.virq) ? 0 : chn->notify_vcpu];
        v->events.virq_port[chn->u.virq] = 0;
        break;
    }
    case ECS_INTERDOMAIN:
        rd = chn->u.interdomain.dom;
        if (rd) {
            struct evtchn *rchn;

            if (rd != d)
                spin_lock(&rd->events.lock);
            rchn = port_chn(rd, chn->u.interdomain.port);
            rchn->state = ECS_UNBOUND;
            rchn->u.remote_domid = d->domain_id;
        }
        break;
    default:
        break;
    }
    free_chn(d, chn, port);
out:
    if (rd && rd != d)
        spin_unlock(&rd->events.lock);
    spin_unlock(&d->events.lock);
    spin_unlock(&pair_lock);
    return rc;
}

static long evtchn_send(evtchn_port_t port)
{
    struct domain *ld = current->domain;
    evtchn_enso_notify_t enso_notify = NULL;
    struct evtchn *chn;
    long rc = 0;

    spin_lock(&ld->events.lock);
    chn = port_chn(ld, port);
    switch (chn ? chn->state : ECS_FREE) {
    case ECS_INTERDOMAIN: {
        struct domain *rd = chn->u.interdomain.dom;

        if (!rd) {
            enso_notify = chn->u.interdomain.enso_notify;
            break;
        }
        set_pending(rd, port_chn(rd, chn->u.interdomain.port)->notify_vcpu,
                    chn->u.interdomain.port);
        break;
    }
    case ECS_IPI:
        set_pending(ld, chn->notify_vcpu, port);
        break;
    case ECS_UNBOUND:
        break; /* nobody to tell: dropped, as on Xen */
    default:
        rc = -EINVAL;
    }
    spin_unlock(&ld->events.lock);
    if (enso_notify)
        enso_notify(ld);
    return rc;
}

static long evtchn_status(struct evtchn_status *st)
{
    struct domain *d = get_any(st->dom);
    struct evtchn *chn;
    long rc = 0;

    if (!d)
        return -ESRCH;
    spin_lock(&d->events.lock);
    chn = port_chn(d, st->port);
    if (!chn) {
        rc = -EINVAL;
    } else if (!may_act_on(d)) {
        rc = -EPERM;
    } else {
        /* Fields that do not apply go back to the guest as it sent them, as on Xen. */
        switch (chn->state) {
        case ECS_UNBOUND:
            st->status = EVTCHNSTAT_unbound;
            st->u.unbound.dom = chn->u.remote_domid;
            break;
        case ECS_INTERDOMAIN:
            st->status = EVTCHNSTAT_interdomain;
            /* enso's own back ends show as the hypervisor's, with no port number. */
            st->u.interdomain.dom = chn->u.interdomain.dom
                                        ? chn->u.interdomain.dom->domain_id : DOMID_XEN;
            st->u.interdomain.port = chn->u.interdomain.port;
            break;
        case ECS_VIRQ:
            st->status = EVTCHNSTAT_virq;
            st->u.virq = chn->u.virq;
            break;
        case ECS_IPI:
            st->status = EVTCHNSTAT_ipi;
            break;
        default:
            st->status = EVTCHNSTAT_closed;
        }
        st->vcpu = chn->notify_vcpu;
    }
    spin_unlock(&d->events.lock);
    put_domain(d);
    return rc;
}

static long bind_vcpu(const struct evtchn_bind_vcpu *b)
{
    struct domain *d = current->domain;
    struct evtchn *chn;
    long rc = 0;

    if (!domain_vcpu(d, b->vcpu))
        return -ENOENT;
    spin_lock(&d->events.lock);
    chn = port_chn(d, b->port);
    switch (chn ? chn->state : ECS_FREE) {
    case ECS_VIRQ:
        if (virq_is_global(chn->u.virq))
            chn->notify_vcpu = (uint16_t)b->vcpu;
        else
            rc = -EINVAL;
        break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
        chn->notify_vcpu = (uint16_t)b->vcpu;
        break;
    default:
        rc = -EINVAL;
    }
    spin_unlock(&d->events.lock);
    return rc;
}

static long evtchn_unmask(evtchn_port_t port)
{
    struct domain *d = current->domain;
    struct evtchn *chn;
    long rc = 0;

    spin_lock(&d->events.lock);
    chn = port_chn(d, port);
    if (!chn) {
        rc = -EINVAL;
    } else if (chn_usable(chn)) {
        /* Only a bound port is unmasked: a free one keeps its mask bit, as on Xen. */
        struct vcpu *v = domain_vcpu(d, chn->notify_vcpu);
        unsigned int r = v ? abi_unmask(d, v, chn, port) : 0;

        if (r & EVTCHN_KICK)
            vcpu_kick(v);
        if (r & EVTCHN_NEWLY_PENDING)
            check_pollers(d, port);
    }
    spin_unlock(&d->events.lock);
    return rc;
}

/* ---- switching ABIs (the FIFO one's set-up calls) ---- */

/*
 * Every port with storage takes the default priority; one pending in the 2-level
 * bitmap keeps its event, raised when the event array covers it. The 2-level mask
 * bits are not carried over (the event words have MASKED bits of their own).
 */
static void switch_to_fifo(struct domain *d, struct evtchn_fifo *f)
{
    /* Published first: an event sent from now on is the FIFO's, not missed by the scan. */
    __atomic_store_n(&d->events.fifo, f, __ATOMIC_RELEASE);
    spin_lock(&f->lock);
    for (evtchn_port_t port = 1; port < d->events.valid; port++) {
        struct evtchn *chn = port_chn(d, port);

        if (evtchn_2l_is_pending(d->shared_info, port))
            chn->fifo_pending = true;
        evtchn_fifo_port_init(chn);
    }
    spin_unlock(&f->lock);
}

/*
 * EVTCHNOP_init_control: vCPU first (-ENOENT), then the offset (the control block
 * must fit in the frame, 8-byte aligned), then the frame. The first call switches the
 * domain to FIFO, with an empty event array; a failed one leaves it on 2-level.
 * link_bits goes back to the guest only on success.
 */
static long fifo_init_control(struct evtchn_init_control *ic)
{
    struct domain *d = current->domain;
    struct evtchn_fifo *f;
    long rc;

    ic->link_bits = EVTCHN_FIFO_LINK_BITS;
    if (!domain_vcpu(d, ic->vcpu))
        return -ENOENT;
    if (ic->offset > PAGE_SIZE - sizeof(struct evtchn_fifo_control_block) ||
        (ic->offset & 7))
        return -EINVAL;
    spin_lock(&d->events.lock);
    f = d->events.fifo;
    if (f) {
        rc = evtchn_fifo_map_control(d, f, ic->vcpu, ic->control_gfn, ic->offset);
    } else if (!(f = evtchn_fifo_create(d))) {
        rc = -ENOMEM;
    } else {
        rc = evtchn_fifo_map_control(d, f, ic->vcpu, ic->control_gfn, ic->offset);
        if (rc)
            evtchn_fifo_release(f);
        else
            switch_to_fifo(d, f);
    }
    spin_unlock(&d->events.lock);
    return rc;
}

/*
 * Events raised on the ports of a new array page while they had no word are raised
 * now, whatever became of the port since (closed, even), and, as on Xen, the port
 * keeps that mark: a later FIFO set-up raises it again.
 */
static void raise_saved(struct domain *d, evtchn_port_t first)
{
    for (evtchn_port_t port = first;
         port < first + EVTCHN_FIFO_WORDS_PER_PAGE && port < d->events.valid; port++) {
        struct evtchn *chn = port_chn(d, port);

        if (chn->fifo_pending)
            set_pending(d, chn->notify_vcpu, port);
    }
}

/* EVTCHNOP_expand_array: one more page of event words. */
static long fifo_expand_array(const struct evtchn_expand_array *ea)
{
    struct domain *d = current->domain;
    int first = -EOPNOTSUPP;

    spin_lock(&d->events.lock);
    if (d->events.fifo)
        first = evtchn_fifo_map_page(d, d->events.fifo, ea->array_gfn);
    if (first >= 0)
        raise_saved(d, (evtchn_port_t)first);
    spin_unlock(&d->events.lock);
    return first < 0 ? first : 0;
}

/* After a reset: a FIFO domain with no port left in use goes back to 2-level, giving
 * its frames back; -EAGAIN if a port was bound again meanwhile. */
static long back_to_2l(struct domain *d)
{
    struct evtchn_fifo *f;
    long rc = 0;

    spin_lock(&d->events.lock);
    f = d->events.fifo;
    for (evtchn_port_t port = 1; f && !rc && port < d->events.valid; port++)
        if (chn_usable(port_chn(d, port)))
            rc = -EAGAIN;
    if (f && !rc) {
        __atomic_store_n(&d->events.fifo, NULL, __ATOMIC_RELEASE);
        evtchn_fifo_release(f);
    }
    spin_unlock(&d->events.lock);
    return rc;
}

static long evtchn_reset(const struct evtchn_reset *r, bool cont)
{
    struct domain *d = get_any(r->dom);
    long rc = 0;

    if (!d)
        return -ESRCH;
    if (!may_act_on(d))
        rc = -EPERM;
    else if (d != current->domain)
        rc = -EINVAL; /* Xen: only while a controller keeps the domain paused */
    else if (cont)
        rc = -EBUSY;  /* no reset is ever left half done to continue */
    put_domain(d);
    if (rc)
        return rc;
    for (evtchn_port_t port = 1; port < READ_ONCE(d->events.valid); port++)
        evtchn_close(d, port);
    return back_to_2l(d);
}

/* The port is checked first; a 2-level domain has no priorities; FIFO wants a bound
 * port. */
static long set_priority(const struct evtchn_set_priority *p)
{
    struct domain *d = current->domain;
    struct evtchn_fifo *f;
    struct evtchn *chn;
    long rc;

    spin_lock(&d->events.lock);
    f = d->events.fifo;
    chn = port_chn(d, p->port);
    if (!chn) {
        rc = -EINVAL;
    } else if (!f) {
        rc = -ENOSYS;
    } else if (!chn_usable(chn)) {
        rc = -EACCES;
    } else {
        spin_lock(&f->lock);
        rc = evtchn_fifo_set_priority(chn, p->priority);
        spin_unlock(&f->lock);
    }
    spin_unlock(&d->events.lock);
    return rc;
}

/* Copy the argument in, run op, and copy it back if op succeeded and wants that. */
#define OP_INOUT(type, fn)                                                             \
    do {                                                                               \
        struct type a_;                                                                \
        long rc_;                                                                      \
        if (copy_from_guest(&a_, arg, sizeof(a_)))                                     \
            return -EFAULT;                                                            \
        rc_ = fn(&a_);                                                                 \
        /* As on Xen, an op done stays done when its result cannot be written. */      \
        if (!rc_ && copy_to_guest(arg, &a_, sizeof(a_)))                               \
            rc_ = -EFAULT;                                                             \
        return rc_;                                                                    \
    } while (0)

#define OP_IN(type, expr)                                                              \
    do {                                                                               \
        struct type a_;                                                                \
        if (copy_from_guest(&a_, arg, sizeof(a_)))                                     \
            return -EFAULT;                                                            \
        return (expr);                                                                 \
    } while (0)

long do_event_channel_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case EVTCHNOP_alloc_unbound:
        OP_INOUT(evtchn_alloc_unbound, alloc_unbound);
    case EVTCHNOP_bind_interdomain:
        OP_INOUT(evtchn_bind_interdomain, bind_interdomain);
    case EVTCHNOP_bind_virq:
        OP_INOUT(evtchn_bind_virq, bind_virq);
    case EVTCHNOP_bind_ipi:
        OP_INOUT(evtchn_bind_ipi, bind_ipi);
    case EVTCHNOP_status:
        OP_INOUT(evtchn_status, evtchn_status);
    case EVTCHNOP_bind_pirq:
        /* No domain has physical IRQs: Xen's answer without the IRQ's permission. */
        OP_IN(evtchn_bind_pirq, ((void)a_, -EPERM));
    case EVTCHNOP_close:
        OP_IN(evtchn_close, evtchn_close(current->domain, a_.port));
    case EVTCHNOP_send:
        OP_IN(evtchn_send, evtchn_send(a_.port));
    case EVTCHNOP_bind_vcpu:
        OP_IN(evtchn_bind_vcpu, bind_vcpu(&a_));
    case EVTCHNOP_unmask:
        OP_IN(evtchn_unmask, evtchn_unmask(a_.port));
    case EVTCHNOP_reset:
    case EVTCHNOP_reset_cont:
        OP_IN(evtchn_reset, evtchn_reset(&a_, (int)cmd == EVTCHNOP_reset_cont));
    case EVTCHNOP_init_control:
        OP_INOUT(evtchn_init_control, fifo_init_control);
    case EVTCHNOP_expand_array:
        OP_IN(evtchn_expand_array, fifo_expand_array(&a_));
    case EVTCHNOP_set_priority:
        OP_IN(evtchn_set_priority, set_priority(&a_));
    default:
        return -ENOSYS;
    }
}

/* ---- enso's side ---- */

int evtchn_alloc_enso_port(struct domain *d, evtchn_enso_notify_t notify)
{
    struct evtchn *chn;
    int port;

    spin_lock(&d->events.lock);
    port = get_free_port(d);
    if (port >= 0) {
        chn = port_chn(d, (evtchn_port_t)port);
        chn->state = ECS_INTERDOMAIN;
        chn->u.interdomain.dom = NULL;
        chn->u.interdomain.port = 0;
        chn->u.interdomain.enso_notify = notify;
        abi_port_init(d, chn);
    }
    spin_unlock(&d->events.lock);
    return port;
}

void evtchn_notify_from_enso(struct domain *d, evtchn_port_t port)
{
    struct evtchn *chn;

    if (!__atomic_load_n(&d->events.ready, __ATOMIC_ACQUIRE))
        return;
    spin_lock(&d->events.lock);
    chn = port_chn(d, port);
    /* The guest may have closed it, even bound the number to something else. */
    if (chn && chn->state == ECS_INTERDOMAIN && !chn->u.interdomain.dom)
        set_pending(d, chn->notify_vcpu, port);
    spin_unlock(&d->events.lock);
}

static void send_virq(struct domain *d, struct vcpu *bound_on, unsigned int virq)
{
    evtchn_port_t port;

    if (!__atomic_load_n(&d->events.ready, __ATOMIC_ACQUIRE))
        return;
    spin_lock(&d->events.lock);
    port = bound_on->events.virq_port[virq];
    if (port)
        set_pending(d, port_chn(d, port)->notify_vcpu, port);
    spin_unlock(&d->events.lock);
}

void send_guest_vcpu_virq(struct vcpu *v, unsigned int virq)
{
    if (virq < NR_VIRQS && !virq_is_global(virq))
        send_virq(v->domain, v, virq);
}

void send_guest_global_virq(struct domain *d, unsigned int virq)
{
    if (d && d->vcpu[0] && virq < NR_VIRQS && virq_is_global(virq))
        send_virq(d, d->vcpu[0], virq);
}

/* ---- blocking and polling ---- */

void vcpu_block_for_events(void)
{
    struct vcpu *v = current;

    if (v->vcpu_info)
        WRITE_ONCE(v->vcpu_info->evtchn_upcall_mask, 0);
    __atomic_fetch_or(&v->pause_flags, VPF_blocked, __ATOMIC_SEQ_CST);
    /* Checked after blocking, so an event sent meanwhile is not missed. */
    if (events_need_delivery(v->vcpu_info))
        __atomic_fetch_and(&v->pause_flags, ~VPF_blocked, __ATOMIC_SEQ_CST);
    else
        raise_softirq(SCHEDULE_SOFTIRQ);
}

/*
 * Poll timeouts: one list and one timer for all vCPUs, so that a vCPU torn down can be
 * taken off it under the lock the timer's handler holds while it wakes pollers.
 */
static DEFINE_SPINLOCK(poll_lock);
static LIST_HEAD(poll_timeouts);
static struct timer poll_timer;
static bool poll_timer_ready;

/* poll_lock held: the timer for the earliest deadline, or off. */
static void poll_timer_rearm(void)
{
    struct vcpu *v;
    s_time_t first = 0;
    bool any = false;

    list_for_each_entry(v, &poll_timeouts, events.poll_elem) {
        if (!any || v->events.poll_deadline < first)
            first = v->events.poll_deadline;
        any = true;
    }
    if (any)
        set_timer(&poll_timer, first);
    else
        stop_timer(&poll_timer);
}

static void poll_timeout_fn(void *data)
{
    s_time_t now = NOW();
    struct vcpu *v, *n;

    (void)data;
    spin_lock(&poll_lock);
    list_for_each_entry_safe(v, n, &poll_timeouts, events.poll_elem) {
        uint64_t bit = 1UL << v->vcpu_id;

        if (v->events.poll_deadline > now)
            continue;
        list_del(&v->events.poll_elem);
        v->events.poll_timed = false;
        /* Still polling (no event woke it first): the timeout wakes it. */
        if (__atomic_fetch_and(&v->domain->events.poll_mask, ~bit, __ATOMIC_SEQ_CST) & bit)
            vcpu_unblock(v);
    }
    poll_timer_rearm();
    spin_unlock(&poll_lock);
}

/* deadline 0: none (an earlier poll's is dropped). */
static void poll_set_deadline(struct vcpu *v, uint64_t deadline)
{
    spin_lock(&poll_lock);
    if (!poll_timer_ready) {
        init_timer(&poll_timer, poll_timeout_fn, NULL, smp_processor_id());
        poll_timer_ready = true;
    }
    if (deadline) {
        v->events.poll_deadline = (s_time_t)deadline; /* past (or "negative"): at once */
        if (!v->events.poll_timed)
            list_add_tail(&v->events.poll_elem, &poll_timeouts);
        v->events.poll_timed = true;
    } else if (v->events.poll_timed) {
        list_del(&v->events.poll_elem);
        v->events.poll_timed = false;
    }
    poll_timer_rearm();
    spin_unlock(&poll_lock);
}

/* The poll is over: its deadline goes (the timer's handler has taken it off itself). */
static void poll_cancel(struct vcpu *v)
{
    if (!READ_ONCE(v->events.poll_timed))
        return;
    spin_lock(&poll_lock);
    if (v->events.poll_timed) {
        list_del(&v->events.poll_elem);
        v->events.poll_timed = false;
        poll_timer_rearm();
    }
    spin_unlock(&poll_lock);
}

/* -EINVAL for a port that is not valid or not bound, else whether it is pending. */
static int port_poll(struct domain *d, evtchn_port_t port)
{
    struct evtchn *chn;
    int rc = -EINVAL;

    spin_lock(&d->events.lock);
    chn = port_chn(d, port);
    if (chn && chn_usable(chn))
        rc = abi_is_pending(d, port);
    spin_unlock(&d->events.lock);
    return rc;
}

long evtchn_poll(uint64_t ports_va, unsigned int nr, uint64_t timeout)
{
    struct vcpu *v = current;
    struct domain *d = v->domain;
    uint64_t bit = 1UL << v->vcpu_id;
    evtchn_port_t port = 0;
    long rc = 0;

    /* Blocked and polling first: a port that turns pending from here on wakes us. */
    __atomic_fetch_or(&v->pause_flags, VPF_blocked, __ATOMIC_SEQ_CST);
    v->events.poll_port = -1;
    __atomic_fetch_or(&d->events.poll_mask, bit, __ATOMIC_SEQ_CST);

    if (events_need_delivery(v->vcpu_info))
        goto out;
    for (unsigned int i = 0; i < nr; i++) {
        if (copy_from_guest(&port, ports_va + (uint64_t)i * sizeof(port), sizeof(port))) {
            rc = -EFAULT;
            goto out;
        }
        rc = port_poll(d, port);
        if (rc) {
            if (rc > 0)
                rc = 0;
            goto out;
        }
    }
    if (nr == 1)
        v->events.poll_port = (int)port;
    poll_set_deadline(v, timeout);
    /* Woken while setting up (an event came): no deadline is left behind. */
    if (!(READ_ONCE(v->pause_flags) & VPF_blocked))
        poll_cancel(v);
    raise_softirq(SCHEDULE_SOFTIRQ);
    return 0;

out:
    v->events.poll_port = 0;
    __atomic_fetch_and(&d->events.poll_mask, ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&v->pause_flags, ~VPF_blocked, __ATOMIC_SEQ_CST);
    return rc;
}

/* ---- teardown ---- */

/* Every bucket and group but the first ones, which are part of struct domain. */
static void free_buckets(struct domain_events *e)
{
    for (unsigned int g = 0; g < EVTCHN_GROUPS; g++) {
        if (!e->group[g])
            continue;
        for (unsigned int b = g ? 0 : 1; b < EVTCHN_BUCKETS_PER_GROUP; b++) {
            xfree(e->group[g][b]);
            e->group[g][b] = NULL;
        }
        if (g) {
            xfree(e->group[g]);
            e->group[g] = NULL;
        }
    }
    e->valid = EVTCHN_PER_BUCKET;
}

void evtchn_destroy(struct domain *d)
{
    struct domain_events *e = &d->events;

    if (!__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE))
        return;
    spin_lock(&e->lock);
    e->dead = true;
    spin_unlock(&e->lock);
    for (evtchn_port_t port = 1; port < e->valid; port++)
        evtchn_close(d, port);

    spin_lock(&poll_lock);
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        if (v && v->events.poll_timed) {
            list_del(&v->events.poll_elem);
            v->events.poll_timed = false;
        }
    }
    if (poll_timer_ready)
        poll_timer_rearm();
    spin_unlock(&poll_lock);

    spin_lock(&e->lock);
    if (e->fifo) {
        evtchn_fifo_release(e->fifo); /* the guest frames, before memory is relinquished */
        e->fifo = NULL;
    }
    free_buckets(e);
    spin_unlock(&e->lock);
}

/* ---- the 'e' debug key ---- */

static const char *const state_names[] = {
    [ECS_FREE] = "free", [ECS_RESERVED] = "reserved", [ECS_UNBOUND] = "unbound",
    [ECS_INTERDOMAIN] = "interdomain", [ECS_VIRQ] = "virq", [ECS_IPI] = "ipi",
};

static void dump_domain_events(struct domain *d)
{
    bool fifo;

    spin_lock(&d->events.lock);
    fifo = d->events.fifo;
    printk("domain %u: %s ABI, %u ports with storage, poll mask %#lx\n", d->domain_id,
           fifo ? "FIFO" : "2-level", d->events.valid, (unsigned long)d->events.poll_mask);
    for (evtchn_port_t port = 1; port < d->events.valid; port++) {
        const struct evtchn *chn = port_chn(d, port);
        bool known = d->shared_info;

        if (chn->state == ECS_FREE)
            continue;
        printk("  port %4u: %-11s vcpu %u, pending %d masked %d", port,
               state_names[chn->state], chn->notify_vcpu,
               known && abi_is_pending(d, port), !known || abi_is_masked(d, port));
        if (fifo)
            printk(" linked %d priority %u", abi_is_busy(d, port), chn->priority);
        if (chn->state == ECS_UNBOUND)
            printk(", for domain %u\n", chn->u.remote_domid);
        else if (chn->state == ECS_INTERDOMAIN && chn->u.interdomain.dom)
            printk(", to domain %u port %u\n", chn->u.interdomain.dom->domain_id,
                   chn->u.interdomain.port);
        else if (chn->state == ECS_INTERDOMAIN)
            printk(", to enso\n");
        else if (chn->state == ECS_VIRQ)
            printk(", virq %u\n", chn->u.virq);
        else
            printk("\n");
    }
    spin_unlock(&d->events.lock);
}

static void dump_events(char key)
{
    struct domain *d;

    printk("'%c' pressed -> event channels:\n", key);
    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list)
        if (__atomic_load_n(&d->events.ready, __ATOMIC_ACQUIRE))
            dump_domain_events(d);
    spin_unlock(&domain_list_lock);
}
register_keyhandler('e', dump_events, "show every domain's event channels");
