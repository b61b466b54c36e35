/*
 * The FIFO event-channel ABI's queue logic (see <enso/event_fifo.h>): event words,
 * per-priority queues of each vCPU, READY bits, done as Xen 4.17 does them. Pure: the
 * caller holds the domain's FIFO lock and has the guest frames mapped; the guest may
 * change the same words concurrently, hence atomics on every one of them.
 */
#include <enso/errno.h>
#include <enso/event_fifo.h>

#define BIT(n) (1U << (n))

/* Guest-visible words: atomic read-modify-writes, as the guest's own. */
static bool word_test_and_set(uint32_t *w, unsigned int bit)
{
    return __atomic_fetch_or(w, BIT(bit), __ATOMIC_SEQ_CST) & BIT(bit);
}

static void word_set(uint32_t *w, unsigned int bit)
{
    __atomic_fetch_or(w, BIT(bit), __ATOMIC_SEQ_CST);
}

static void word_clear(uint32_t *w, unsigned int bit)
{
    __atomic_fetch_and(w, ~BIT(bit), __ATOMIC_SEQ_CST);
}

static bool word_test(const uint32_t *w, unsigned int bit)
{
    return __atomic_load_n(w, __ATOMIC_SEQ_CST) & BIT(bit);
}

void evtchn_fifo_vcpu_init(struct evtchn_fifo_vcpu *fv)
{
    fv->control = NULL;
    for (unsigned int i = 0; i < EVTCHN_FIFO_MAX_QUEUES; i++) {
        fv->queue[i].head = NULL;
        fv->queue[i].tail = 0;
        fv->queue[i].priority = (uint8_t)i;
    }
}

void evtchn_fifo_attach_control(struct evtchn_fifo_vcpu *fv,
                                struct evtchn_fifo_control_block *cb)
{
    for (unsigned int i = 0; i < EVTCHN_FIFO_MAX_QUEUES; i++)
        fv->queue[i].head = &cb->head[i];
    fv->control = cb;
}

bool evtchn_fifo_array_full(const struct evtchn_fifo *f)
{
    return f->nr_ports / EVTCHN_FIFO_WORDS_PER_PAGE >= EVTCHN_FIFO_MAX_PAGES;
}

int evtchn_fifo_add_page(struct evtchn_fifo *f, event_word_t *words)
{
    unsigned int first = f->nr_ports;

    if (evtchn_fifo_array_full(f))
        return -ENOSPC;
    f->page[first / EVTCHN_FIFO_WORDS_PER_PAGE] = words;
    f->nr_ports = first + EVTCHN_FIFO_WORDS_PER_PAGE;
    return (int)first;
}

event_word_t *evtchn_fifo_word(const struct evtchn_fifo *f, evtchn_port_t port)
{
    if (port >= f->nr_ports)
        return NULL;
    return f->page[port / EVTCHN_FIFO_WORDS_PER_PAGE] + port % EVTCHN_FIFO_WORDS_PER_PAGE;
}

void evtchn_fifo_port_init(struct evtchn *chn)
{
    chn->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
}

int evtchn_fifo_set_priority(struct evtchn *chn, unsigned int priority)
{
    if (priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -EINVAL;
    chn->priority = (uint8_t)priority;
    return 0;
}

/*
 * Point the LINK field of tail word *word at port, if the word is still LINKED. Only a
 * guest can change the word meanwhile, and it may only set or clear MASKED, clear
 * PENDING, or clear LINKED (and LINK): 1 linked, 0 not LINKED, -EAGAIN changed under us
 * (*seen is then its new value). A BUSY bit goes in the same exchange.
 */
static int try_link(event_word_t *word, event_word_t *seen, evtchn_port_t port)
{
    event_word_t old = *seen, new;

    if (!(old & BIT(EVTCHN_FIFO_LINKED)))
        return 0;
    new = (old & ~(BIT(EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | port;
    if (__atomic_compare_exchange_n(word, seen, new, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return 1;
    return -EAGAIN;
}

/*
 * Link the tail to port. When the first try loses to the guest, the tail is marked
 * BUSY, which stops the guest unmasking it locally, so only a bounded number of its
 * changes (MASKED set, PENDING or LINKED cleared) can still come in between: a few
 * more tries suffice. Should they not, the link counts as made, as on Xen.
 */
static bool link_tail(event_word_t *word, evtchn_port_t port)
{
    event_word_t seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    int rc = try_link(word, &seen, port);

    if (rc >= 0)
        return rc;
    word_set(word, EVTCHN_FIFO_BUSY);
    seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (unsigned int i = 0; i < 4; i++) {
        rc = try_link(word, &seen, port);
        if (rc >= 0) {
            if (!rc)
                word_clear(word, EVTCHN_FIFO_BUSY);
            return rc;
        }
    }
    word_clear(word, EVTCHN_FIFO_BUSY);
    return true;
}

static struct evtchn_fifo_vcpu *fifo_vcpu(const struct evtchn_fifo *f, unsigned int id)
{
    return id < f->nr_vcpus ? f->vcpu[id] : NULL;
}

/* Append port (already LINKED) to q, moving it off old_q's tail; true if a LINK was
 * written, false if port became q's head (the queue was empty). */
static bool enqueue(struct evtchn_fifo *f, struct evtchn *chn, evtchn_port_t port,
                    unsigned int vcpu_id, struct evtchn_fifo_queue *q,
                    struct evtchn_fifo_queue *old_q)
{
    bool linked = false;

    /*
     * Its old queue ends here no longer (the guest took it off): forget that tail, or
     * the next event of the old queue would link from a word now on another queue.
     */
    if (old_q->tail == port)
        old_q->tail = 0;
    if (old_q != q) {
        chn->fifo_last_vcpu = (uint16_t)vcpu_id;
        chn->fifo_last_priority = q->priority;
    }
    /* A tail the guest has consumed is no longer LINKED: the queue is empty then. */
    if (q->tail) {
        event_word_t *tail = evtchn_fifo_word(f, q->tail);

        linked = tail && link_tail(tail, port);
    }
    if (!linked)
        __atomic_store_n(q->head, port, __ATOMIC_SEQ_CST);
    q->tail = port;
    return linked;
}

unsigned int evtchn_fifo_set_pending(struct evtchn_fifo *f, unsigned int vcpu_id,
                                     struct vcpu_info *vi, struct evtchn *chn,
                                     evtchn_port_t port)
{
    event_word_t *word = evtchn_fifo_word(f, port);
    struct evtchn_fifo_vcpu *fv = fifo_vcpu(f, vcpu_id), *old_fv;
    struct evtchn_fifo_queue *q, *old_q;
    unsigned int r = 0;

    if (!word) {
        chn->fifo_pending = true;
        return 0;
    }
    /* The guest must not unmask an event before its vCPU's control block exists: an
     * event for such a vCPU is dropped, as on Xen. */
    if (!fv || !fv->control)
        return 0;
    q = &fv->queue[chn->priority];
    old_fv = fifo_vcpu(f, chn->fifo_last_vcpu);
    old_q = old_fv ? &old_fv->queue[chn->fifo_last_priority] : q;

    if (!word_test_and_set(word, EVTCHN_FIFO_PENDING))
        r |= EVTCHN_NEWLY_PENDING;
    if (word_test(word, EVTCHN_FIFO_MASKED) || word_test_and_set(word, EVTCHN_FIFO_LINKED))
        return r;
    if (enqueue(f, chn, port, vcpu_id, q, old_q))
        return r;
    /* A new head: the queue becomes ready, and the vCPU is told if it was not already. */
    if (!word_test_and_set(&fv->control->ready, q->priority) && vi &&
        !(__atomic_fetch_or(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) & 1))
        r |= EVTCHN_KICK;
    return r;
}

void evtchn_fifo_clear_pending(struct evtchn_fifo *f, evtchn_port_t port)
{
    event_word_t *word = evtchn_fifo_word(f, port);

    /* Only PENDING: the guest skips a port it finds on a queue but not pending. */
    if (word)
        word_clear(word, EVTCHN_FIFO_PENDING);
}

unsigned int evtchn_fifo_unmask(struct evtchn_fifo *f, unsigned int vcpu_id,
                                struct vcpu_info *vi, struct evtchn *chn,
                                evtchn_port_t port)
{
    event_word_t *word = evtchn_fifo_word(f, port);

    if (!word)
        return 0;
    word_clear(word, EVTCHN_FIFO_MASKED);
    if (!word_test(word, EVTCHN_FIFO_PENDING))
        return 0;
    return evtchn_fifo_set_pending(f, vcpu_id, vi, chn, port);
}

bool evtchn_fifo_is_pending(const struct evtchn_fifo *f, evtchn_port_t port)
{
    const event_word_t *word = evtchn_fifo_word(f, port);

    return word && word_test(word, EVTCHN_FIFO_PENDING);
}

bool evtchn_fifo_is_masked(const struct evtchn_fifo *f, evtchn_port_t port)
{
    const event_word_t *word = evtchn_fifo_word(f, port);

    return !word || word_test(word, EVTCHN_FIFO_MASKED);
}

bool evtchn_fifo_is_busy(const struct evtchn_fifo *f, evtchn_port_t port)
{
    const event_word_t *word = evtchn_fifo_word(f, port);

    return word && word_test(word, EVTCHN_FIFO_LINKED);
}
