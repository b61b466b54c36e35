/*
 * Event channels, FIFO ABI, as Xen 4.17 does them for a 64-bit PV domain:
 * EVTCHNOP_init_control, expand_array and set_priority with their errnos and check
 * order, the event words (PENDING, MASKED, LINKED, BUSY, LINK) and control block
 * (READY, heads) as the guest sees them, delivery through the priority queues by the
 * event callback, unmask, ports beyond the event array, the switch from the 2-level
 * ABI and back (EVTCHNOP_reset), and what the frames given to the hypervisor can do
 * meanwhile.
 *
 * Runs as domain 0 with one vCPU (tests/guests/run.py, on Xen and enso), and as dom0
 * and a domU in enso's fifo-teardown scenario (tests/qemu/domain_tests.py): it ends
 * with the FIFO ABI on, so that destroying the domain must give its frames back. Each
 * test starts from EVTCHNOP_reset, which closes every port and takes the domain back
 * to 2-level.
 */
#include <guest/events.h>
#include <guest/frames.h>
#include <guest/pt.h>
#include <guest/test.h>

#define EVTCHNOP_reset_cont 14
#define WORDS_PER_PAGE 1024
#define DEF EVTCHN_FIFO_PRIORITY_DEFAULT
#define CB_OFFSET 64 /* where the control block sits in its frame */
#define NO_STORAGE 5000 /* a port no test gives storage to */
#define PENDING (1U << EVTCHN_FIFO_PENDING)
#define MASKED (1U << EVTCHN_FIFO_MASKED)
#define LINKED (1U << EVTCHN_FIFO_LINKED)
#define BUSY (1U << EVTCHN_FIFO_BUSY)
#define LINK_OF(w) ((w) & EVTCHN_FIFO_LINK_MASK)

/* Two pages of event words (ports 0-2047) and the control block's frame. */
static event_word_t array0[WORDS_PER_PAGE] __attribute__((aligned(4096)));
static event_word_t array1[WORDS_PER_PAGE] __attribute__((aligned(4096)));
static uint8_t control_page[4096] __attribute__((aligned(4096)));
static struct evtchn_fifo_control_block *cb =
    (struct evtchn_fifo_control_block *)(control_page + CB_OFFSET);

/* What the callback's scan did: ports handled, in order. */
static evtchn_port_t local_head[EVTCHN_FIFO_MAX_QUEUES];
static volatile evtchn_port_t handled[64];
static volatile unsigned int nr_handled;

static volatile event_word_t *word(evtchn_port_t port)
{
    if (port < WORDS_PER_PAGE)
        return &array0[port];
    if (port < 2 * WORDS_PER_PAGE)
        return &array1[port - WORDS_PER_PAGE];
    return NULL;
}

static event_word_t word_of(evtchn_port_t port)
{
    return __atomic_load_n(word(port), __ATOMIC_SEQ_CST);
}

/* ---- the guest's side of the queues, as a FIFO guest kernel does it ---- */

/* Take the word off its queue: clear LINKED and LINK together; the next port. */
static evtchn_port_t unlink_word(volatile event_word_t *w)
{
    event_word_t old = *w;

    while (!__atomic_compare_exchange_n(w, &old, old & ~(LINKED | EVTCHN_FIFO_LINK_MASK),
                                        false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    return LINK_OF(old);
}

/* The head of queue q: handled if pending and not masked; q no longer ready if it
 * was the last. The head comes from the control block once our own runs out. */
static void consume_one(unsigned int q, uint32_t *ready)
{
    evtchn_port_t port = local_head[q], next;
    volatile event_word_t *w;

    if (!port)
        port = __atomic_load_n(&cb->head[q], __ATOMIC_SEQ_CST);
    w = word(port);
    if (!w) {
        *ready &= ~(1U << q);
        return;
    }
    next = unlink_word(w);
    if (!next)
        *ready &= ~(1U << q);
    if ((*w & (PENDING | MASKED)) == PENDING) {
        __atomic_fetch_and(w, ~PENDING, __ATOMIC_SEQ_CST);
        if (nr_handled < ARRAY_SIZE(handled))
            handled[nr_handled++] = port;
        if (port < EVTCHN_2L_NR_CHANNELS)
            event_seen[port]++;
    }
    local_head[q] = next;
}

/* The callback's scan: highest priority first, one event at a time, READY re-read
 * after each; bounded, in case a hypervisor links a cycle. */
static void fifo_scan(void)
{
    uint32_t ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);

    for (unsigned int n = 0; ready && n < 4096; n++) {
        consume_one((unsigned int)__builtin_ctz(ready), &ready);
        ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
    }
}

/* ---- hypercalls ---- */

static long init_control_at(uint64_t mfn, uint32_t offset, uint32_t vcpu,
                            uint8_t *link_bits)
{
    struct evtchn_init_control ic = {
        .control_gfn = mfn, .offset = offset, .vcpu = vcpu, .link_bits = 0xaa,
    };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic);

    if (link_bits)
        *link_bits = ic.link_bits;
    return rc;
}

static long init_control(void)
{
    return init_control_at(image_mfn(control_page), CB_OFFSET, 0, NULL);
}

static long expand_array(uint64_t mfn)
{
    struct evtchn_expand_array ea = { .array_gfn = mfn };

    return HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea);
}

static long set_priority(evtchn_port_t port, uint32_t priority)
{
    struct evtchn_set_priority sp = { .port = port, .priority = priority };

    return HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp);
}

static long reset_self(void)
{
    struct evtchn_reset r = { .dom = DOMID_SELF };

    return HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r);
}

static long set_timer_op(uint64_t deadline)
{
    return hypercall(__HYPERVISOR_set_timer_op, deadline, 0, 0, 0, 0);
}

static uint32_t state_of(evtchn_port_t port)
{
    struct evtchn_status st;

    memset(&st, 0, sizeof(st));
    return evtchn_status(DOMID_SELF, port, &st) ? 0xdead : st.status;
}

/* The frame behind the kernel L4's slot 256 (the M2P): one of the hypervisor's. */
static uint64_t hv_frame(void)
{
    return PTE_MFN(((const uint64_t *)start_info->pt_base)[256]);
}

static uint64_t l4_frame(void)
{
    return image_mfn((const void *)start_info->pt_base);
}

static void force_upcall_check(void)
{
    HYPERVISOR_xen_version(XENVER_version, NULL); /* any hypercall returns through it */
}

/* ---- set-up ---- */

/* Back to 2-level with nothing bound, the pages clean, events masked. */
static bool fifo_reset(void)
{
    events_mask();
    event_scan = NULL;
    if (reset_self())
        return false;
    memset(array0, 0, sizeof(array0));
    memset(array1, 0, sizeof(array1));
    memset(control_page, 0, sizeof(control_page));
    memset(local_head, 0, sizeof(local_head));
    nr_handled = 0;
    upcall_clear();
    events_forget();
    return true;
}

/*
 * FIFO with the control block and the first page of words; the scan installed. Ports
 * that an earlier test raised before the array covered them are raised again by the
 * first expand_array (see saved_event_mark_survives_reset): drained here.
 */
static bool fifo_start(void)
{
    if (!fifo_reset() || init_control() || expand_array(image_mfn(array0)))
        return false;
    fifo_scan();
    nr_handled = 0;
    upcall_clear();
    events_forget();
    event_scan = fifo_scan;
    return true;
}

static bool ipi(evtchn_port_t *p)
{
    return evtchn_bind_ipi(0, p) == 0;
}

/* Let the callback run (events unmasked for one hypercall), then mask again. */
static void deliver(void)
{
    events_unmask();
    force_upcall_check();
    events_mask();
}

TEST(install_callback)
{
    CHECK_EQ(events_install(), 0);
}

TEST(fifo_calls_before_init_control)
{
    evtchn_port_t p;

    CHECK(fifo_reset());
    CHECK_EQ(expand_array(image_mfn(array0)), -EOPNOTSUPP);
    CHECK_EQ(expand_array(~0UL), -EOPNOTSUPP);
    /* set_priority: the port is checked, then the 2-level ABI has no priorities. */
    CHECK(ipi(&p));
    CHECK_EQ(set_priority(p, 0), -ENOSYS);
    CHECK_EQ(set_priority(p + 1, 99), -ENOSYS);
    CHECK_EQ(set_priority(NO_STORAGE, 0), -EINVAL);
}

TEST(init_control_errors)
{
    uint64_t good = image_mfn(control_page);
    uint8_t lb;

    CHECK(fifo_reset());
    /* The vCPU first, the offset next, the frame last. */
    CHECK_EQ(init_control_at(good, 0, 1, &lb), -ENOENT);
    CHECK_EQ(lb, 0xaa); /* link_bits is written back only on success */
    CHECK_EQ(init_control_at(good, 0, 0xffffffffU, NULL), -ENOENT);
    CHECK_EQ(init_control_at(~0UL, 4095, 1, NULL), -ENOENT);
    /* The control block (72 bytes) must fit in the frame, 8-byte aligned. */
    CHECK_EQ(init_control_at(good, 4032, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(good, 4028, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(good, 0xfffffff8U, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(good, 4, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(good, 4020, 0, NULL), -EINVAL);
    /* Frames: beyond RAM, not ours, a page table. */
    CHECK_EQ(init_control_at(1UL << 40, 0, 0, &lb), -EINVAL);
    CHECK_EQ(lb, 0xaa);
    CHECK_EQ(init_control_at(~0UL, 0, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(hv_frame(), 0, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(l4_frame(), 0, 0, NULL), -EINVAL);
    /* None of that switched the ABI. */
    CHECK_EQ(expand_array(image_mfn(array0)), -EOPNOTSUPP);
}

TEST(init_control)
{
    evtchn_port_t p;
    uint8_t lb = 0;

    CHECK(fifo_reset());
    /* The control block is not cleared by the hypervisor: that is the guest's job. */
    cb->head[3] = 0x55;
    cb->ready = 1U << 3;
    CHECK_EQ(init_control_at(image_mfn(control_page), CB_OFFSET, 0, &lb), 0);
    CHECK_EQ(lb, EVTCHN_FIFO_LINK_BITS);
    CHECK_EQ(cb->head[3], 0x55);
    CHECK_EQ(cb->ready, 1U << 3);
    cb->head[3] = 0;
    cb->ready = 0;
    /* Once per vCPU: a second time is refused whatever the frame. */
    CHECK_EQ(init_control_at(image_mfn(control_page), CB_OFFSET, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(image_mfn(array1), 0, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(~0UL, 0, 0, NULL), -EINVAL);
    CHECK_EQ(init_control_at(image_mfn(array1), 0, 1, NULL), -ENOENT);
    /* FIFO now: expand_array works; priorities exist but a free port has none. */
    CHECK_EQ(expand_array(image_mfn(array0)), 0);
    CHECK(ipi(&p));
    CHECK_EQ(set_priority(p, 3), 0);
    CHECK_EQ(set_priority(p + 1, 3), -EACCES);
}

TEST(control_block_at_the_last_offset)
{
    struct evtchn_fifo_control_block *last =
        (struct evtchn_fifo_control_block *)(control_page + 4024);
    evtchn_port_t p;

    CHECK(fifo_reset());
    CHECK_EQ(init_control_at(image_mfn(control_page), 4024, 0, NULL), 0);
    CHECK_EQ(expand_array(image_mfn(array0)), 0);
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(last->head[DEF], p);
    CHECK_EQ(last->ready, 1U << DEF);
    CHECK_EQ(cb->ready, 0);
}

TEST(expand_array_errors)
{
    CHECK(fifo_start());
    CHECK_EQ(expand_array(1UL << 40), -EINVAL);
    CHECK_EQ(expand_array(~0UL), -EINVAL);
    CHECK_EQ(expand_array(hv_frame()), -EINVAL);
    CHECK_EQ(expand_array(l4_frame()), -EINVAL);
    CHECK_EQ(expand_array(image_mfn(array1)), 0);
}

/*
 * 128 pages cover the 17-bit port space; the same frame may back several of them.
 * While the hypervisor holds it, the frame cannot become a page table; reset gives
 * every reference back.
 */
TEST(expand_array_limit_and_release)
{
    uint64_t f = frame_alloc();
    unsigned int pages = 1;
    long rc = 0;

    CHECK(f != 0);
    CHECK(fifo_start());
    while (pages < 200 && !(rc = expand_array(f)))
        pages++;
    CHECK_EQ(rc, -ENOSPC);
    CHECK_EQ(pages, EVTCHN_FIFO_NR_CHANNELS / WORDS_PER_PAGE);
    /* Full: refused before the frame is looked at. */
    CHECK_EQ(expand_array(~0UL), -ENOSPC);
    CHECK_EQ(pt_pin(1, f), -EINVAL);
    CHECK(fifo_reset());
    CHECK_EQ(pt_pin(1, f), 0);
    CHECK_EQ(pt_unpin(f), 0);
    frame_free(f);
}

TEST(set_priority)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(set_priority(p, EVTCHN_FIFO_PRIORITY_MIN + 1), -EINVAL);
    CHECK_EQ(set_priority(p, 0xffffffffU), -EINVAL);
    CHECK_EQ(set_priority(p, EVTCHN_FIFO_PRIORITY_MAX), 0);
    CHECK_EQ(set_priority(p, EVTCHN_FIFO_PRIORITY_MIN), 0);
    /* Not bound: -EACCES before the priority is looked at; no storage: -EINVAL. */
    CHECK_EQ(set_priority(p + 1, 99), -EACCES);
    CHECK_EQ(set_priority(0, 0), -EACCES);
    CHECK_EQ(set_priority(64, 0), -EINVAL);
    CHECK_EQ(set_priority(NO_STORAGE, 0), -EINVAL);
    CHECK_EQ(set_priority(0xffffffffU, 0), -EINVAL);
}

TEST(delivery)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(word_of(p), 0);
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->head[DEF], p);
    CHECK_EQ(cb->ready, 1U << DEF);
    CHECK(upcall_pending());
    /* Nothing of the 2-level ABI moves. */
    CHECK(!port_pending(p));
    CHECK(!selector_has(p));
    /* The callback takes it off the queue and handles it. */
    deliver();
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(event_upcall.mask_at_entry, 1);
    CHECK_EQ(nr_handled, 1);
    CHECK_EQ(handled[0], p);
    CHECK_EQ(word_of(p), 0);
    CHECK_EQ(cb->ready, 0);
    CHECK(!upcall_pending());
    /* The head is left as it was: the guest keeps its own. */
    CHECK_EQ(cb->head[DEF], p);
    /* Unmasked, the send itself returns through the callback. */
    events_unmask();
    CHECK_EQ(evtchn_send(p), 0);
    events_mask();
    CHECK_EQ(event_upcall.count, 2);
    CHECK_EQ(nr_handled, 2);
}

TEST(one_queue_in_order)
{
    evtchn_port_t a, b, c;

    CHECK(fifo_start());
    CHECK(ipi(&a) && ipi(&b) && ipi(&c));
    CHECK_EQ(evtchn_send(b), 0);
    CHECK_EQ(evtchn_send(c), 0);
    CHECK_EQ(evtchn_send(a), 0);
    CHECK_EQ(cb->head[DEF], b);
    CHECK_EQ(word_of(b), PENDING | LINKED | c);
    CHECK_EQ(word_of(c), PENDING | LINKED | a);
    CHECK_EQ(word_of(a), PENDING | LINKED);
    deliver();
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(nr_handled, 3);
    CHECK_EQ(handled[0], b);
    CHECK_EQ(handled[1], c);
    CHECK_EQ(handled[2], a);
}

TEST(priorities_higher_first)
{
    evtchn_port_t lo, mid, hi, hi2, top;

    CHECK(fifo_start());
    CHECK(ipi(&lo) && ipi(&mid) && ipi(&hi) && ipi(&hi2) && ipi(&top));
    CHECK_EQ(set_priority(lo, 12), 0);
    CHECK_EQ(set_priority(hi, 2), 0);
    CHECK_EQ(set_priority(hi2, 2), 0);
    CHECK_EQ(set_priority(top, 0), 0);
    CHECK_EQ(evtchn_send(lo), 0);
    CHECK_EQ(evtchn_send(mid), 0);
    CHECK_EQ(evtchn_send(hi), 0);
    CHECK_EQ(evtchn_send(top), 0);
    CHECK_EQ(evtchn_send(hi2), 0);
    CHECK_EQ(cb->ready, (1U << 0) | (1U << 2) | (1U << DEF) | (1U << 12));
    CHECK_EQ(cb->head[0], top);
    CHECK_EQ(cb->head[2], hi);
    CHECK_EQ(cb->head[DEF], mid);
    CHECK_EQ(cb->head[12], lo);
    CHECK_EQ(LINK_OF(word_of(hi)), hi2);
    deliver();
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(nr_handled, 5);
    CHECK_EQ(handled[0], top);
    CHECK_EQ(handled[1], hi);
    CHECK_EQ(handled[2], hi2);
    CHECK_EQ(handled[3], mid);
    CHECK_EQ(handled[4], lo);
}

TEST(already_pending)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    upcall_clear();
    cb->ready = 0;
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->ready, 0);
    CHECK(!upcall_pending());
}

TEST(masked_until_unmask)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    *word(p) = MASKED;
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word_of(p), PENDING | MASKED);
    CHECK_EQ(cb->ready, 0);
    CHECK_EQ(cb->head[DEF], 0);
    CHECK(!upcall_pending());
    /* Unmasked by the guest alone: still on no queue, nobody told. */
    __atomic_fetch_and(word(p), ~MASKED, __ATOMIC_SEQ_CST);
    force_upcall_check();
    CHECK_EQ(word_of(p), PENDING);
    CHECK(!upcall_pending());
    /* EVTCHNOP_unmask links a pending port, and the upcall follows on its way back. */
    __atomic_fetch_or(word(p), MASKED, __ATOMIC_SEQ_CST);
    events_unmask();
    CHECK_EQ(evtchn_unmask(p), 0);
    events_mask();
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(nr_handled, 1);
    CHECK_EQ(handled[0], p);
    CHECK_EQ(word_of(p), 0);
    /* The same for a port the guest unmasked itself first. */
    *word(p) = MASKED;
    CHECK_EQ(evtchn_send(p), 0);
    *word(p) &= ~MASKED;
    CHECK_EQ(evtchn_unmask(p), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->head[DEF], p);
    CHECK(upcall_pending());
}

TEST(unmask_other_cases)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    /* Masked, not pending: only MASKED goes. */
    *word(p) = MASKED;
    CHECK_EQ(evtchn_unmask(p), 0);
    CHECK_EQ(word_of(p), 0);
    CHECK_EQ(cb->ready, 0);
    /* A free port or port 0 keeps its bits; no storage → -EINVAL. */
    *word(p + 1) = MASKED | PENDING;
    CHECK_EQ(evtchn_unmask(p + 1), 0);
    CHECK_EQ(word_of(p + 1), MASKED | PENDING);
    *word(0) = MASKED;
    CHECK_EQ(evtchn_unmask(0), 0);
    CHECK_EQ(word_of(0), MASKED);
    CHECK_EQ(evtchn_unmask(NO_STORAGE), -EINVAL);
}

/* The hypervisor trusts LINKED: a word the guest marked LINKED is not queued again. */
TEST(linked_by_the_guest)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    *word(p) = LINKED;
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->head[DEF], 0);
    CHECK_EQ(cb->ready, 0);
    CHECK(!upcall_pending());
}

/* READY is set only when a queue was empty (its tail no longer LINKED). */
TEST(ready_cleared_while_tail_linked)
{
    evtchn_port_t a, b;

    CHECK(fifo_start());
    CHECK(ipi(&a) && ipi(&b));
    CHECK_EQ(evtchn_send(a), 0);
    cb->ready = 0;
    upcall_clear();
    CHECK_EQ(evtchn_send(b), 0);
    CHECK_EQ(word_of(a), PENDING | LINKED | b);
    CHECK_EQ(cb->ready, 0);
    CHECK(!upcall_pending());
}

TEST(consumed_tail_starts_a_new_queue)
{
    evtchn_port_t a, b;

    CHECK(fifo_start());
    CHECK(ipi(&a) && ipi(&b));
    CHECK_EQ(evtchn_send(a), 0);
    deliver();
    CHECK_EQ(nr_handled, 1);
    CHECK_EQ(cb->ready, 0);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK_EQ(cb->head[DEF], b);
    CHECK_EQ(word_of(a), 0);
    CHECK_EQ(cb->ready, 1U << DEF);
    CHECK(upcall_pending());
    deliver();
    CHECK_EQ(nr_handled, 2);
    CHECK_EQ(handled[1], b);
}

/* Linking rewrites the tail word in one exchange: LINK replaced, BUSY cleared. */
TEST(link_clears_busy_and_replaces_link)
{
    evtchn_port_t a, b;

    CHECK(fifo_start());
    CHECK(ipi(&a) && ipi(&b));
    CHECK_EQ(evtchn_send(a), 0);
    __atomic_fetch_or(word(a), BUSY | 0x1234, __ATOMIC_SEQ_CST);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK_EQ(word_of(a), PENDING | LINKED | b);
    /* BUSY on a word that is not the tail is left alone. */
    __atomic_fetch_or(word(a), BUSY, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(word(b), ~PENDING, __ATOMIC_SEQ_CST);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK_EQ(word_of(a), PENDING | LINKED | BUSY | b);
    CHECK_EQ(word_of(b), PENDING | LINKED);
}

/*
 * A new priority applies from the port's next link. Moving, the port stops being the
 * old queue's tail, so that queue's next event starts it afresh instead of linking
 * from a word now on another queue.
 */
TEST(priority_change_moves_the_port)
{
    evtchn_port_t p, q;

    CHECK(fifo_start());
    CHECK(ipi(&p) && ipi(&q));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(set_priority(p, 3), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    deliver();
    CHECK_EQ(nr_handled, 1);
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(cb->head[3], p);
    CHECK_EQ(cb->ready, 1U << 3);
    CHECK_EQ(evtchn_send(q), 0);
    CHECK_EQ(cb->head[DEF], q);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->ready, (1U << 3) | (1U << DEF));
    deliver();
    CHECK_EQ(nr_handled, 3);
    CHECK_EQ(handled[1], p);
    CHECK_EQ(handled[2], q);
}

/*
 * Closing clears PENDING but not LINKED: the port stays on its queue, and cannot be
 * bound again until the guest has taken it off.
 */
TEST(close_while_linked)
{
    evtchn_port_t p, other, again;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(evtchn_close(p), 0);
    CHECK_EQ(word_of(p), LINKED);
    CHECK_EQ(state_of(p), EVTCHNSTAT_closed);
    CHECK(ipi(&other));
    CHECK(other != p);
    /* The scan finds it on its queue, not pending: unlinked, not handled. */
    deliver();
    CHECK_EQ(nr_handled, 0);
    CHECK_EQ(word_of(p), 0);
    CHECK(ipi(&again));
    CHECK_EQ(again, p);
    /* A free port the guest marked LINKED is skipped just the same. */
    *word(p + 2) = LINKED;
    CHECK(ipi(&again));
    CHECK_EQ(again, p + 3);
    CHECK_EQ(state_of(p + 2), EVTCHNSTAT_closed);
}

/*
 * Before the event array covers a port, its events are kept by the hypervisor, and
 * raised when the page arrives: with an empty array, every port is such a port.
 */
TEST(ports_beyond_the_array)
{
    evtchn_port_t p, u, far = 0;

    CHECK(fifo_reset());
    CHECK_EQ(init_control(), 0);
    event_scan = fifo_scan;
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(array0[p], 0);
    CHECK(!upcall_pending());
    CHECK_EQ(evtchn_unmask(p), 0);
    CHECK_EQ(set_priority(p, 4), 0);
    CHECK_EQ(expand_array(image_mfn(array0)), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->head[4], p);
    CHECK_EQ(cb->ready, 1U << 4);
    CHECK(upcall_pending());
    deliver();
    CHECK_EQ(nr_handled, 1);
    /* Past the first page: ports up to 1030, one of them an IPI sent to meanwhile. */
    while (far < WORDS_PER_PAGE + 6) {
        CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &u), 0);
        far = u;
    }
    CHECK_EQ(evtchn_close(far), 0);
    CHECK(ipi(&u));
    CHECK_EQ(u, far);
    CHECK_EQ(evtchn_send(far), 0);
    CHECK(!upcall_pending());
    CHECK_EQ(expand_array(image_mfn(array1)), 0);
    CHECK_EQ(word_of(far), PENDING | LINKED);
    CHECK_EQ(cb->head[DEF], far);
    deliver();
    CHECK_EQ(nr_handled, 2);
    CHECK_EQ(handled[1], far);
}

/* FIFO has 2^17 ports: binding goes past 4096 (no event word needed). */
TEST(more_than_4096_ports)
{
    evtchn_port_t u = 0;
    long rc = 0;

    CHECK(fifo_start());
    while (u < EVTCHN_2L_NR_CHANNELS + 4 && !rc)
        rc = evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &u);
    CHECK_EQ(rc, 0);
    CHECK_EQ(u, EVTCHN_2L_NR_CHANNELS + 4);
    CHECK_EQ(state_of(EVTCHN_2L_NR_CHANNELS), EVTCHNSTAT_unbound);
    CHECK_EQ(state_of(EVTCHN_2L_NR_CHANNELS + 64), 0xdead); /* no storage: -EINVAL */
    CHECK(fifo_reset());
    CHECK_EQ(state_of(EVTCHN_2L_NR_CHANNELS), EVTCHNSTAT_closed);
    CHECK_EQ(evtchn_bind_ipi(0, &u), 0);
    CHECK_EQ(u, 1);
}

/*
 * A domain switching ABIs keeps its ports: bound ones stay bound, one pending in the
 * 2-level bitmap is raised once the array covers it, at the default priority; the
 * 2-level mask bit does not carry over, and the 2-level pending bit stays as it was.
 */
TEST(switch_from_2l_keeps_ports)
{
    evtchn_port_t p, q;

    CHECK(fifo_reset());
    CHECK(ipi(&p) && ipi(&q));
    port_set_mask(p, true);
    CHECK_EQ(evtchn_send(p), 0);
    CHECK(port_pending(p));
    CHECK_EQ(init_control(), 0);
    event_scan = fifo_scan;
    CHECK_EQ(state_of(p), EVTCHNSTAT_ipi);
    CHECK_EQ(expand_array(image_mfn(array0)), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(word_of(q), 0);
    CHECK_EQ(cb->head[DEF], p);
    CHECK(port_pending(p));
    /* Sends go to the FIFO now. */
    CHECK_EQ(evtchn_send(q), 0);
    CHECK(!port_pending(q));
    CHECK_EQ(LINK_OF(word_of(p)), q);
    port_set_mask(p, false);
    port_clear_pending(p);
}

/*
 * Xen keeps the mark of an event raised while a port had no event word after raising
 * it: a port that had one keeps it through reset and closing, and the first
 * expand_array of a later FIFO set-up raises the port again, though nothing was sent.
 */
TEST(saved_event_mark_survives_reset)
{
    evtchn_port_t p, again;

    CHECK(fifo_reset());
    CHECK_EQ(init_control(), 0);
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(expand_array(image_mfn(array0)), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK(fifo_reset());
    CHECK(ipi(&again));
    CHECK_EQ(again, p);
    CHECK_EQ(init_control(), 0);
    CHECK_EQ(expand_array(image_mfn(array0)), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
    CHECK_EQ(cb->head[DEF], p);
    CHECK(upcall_pending());
}

TEST(interdomain_loopback)
{
    evtchn_port_t a, b;

    CHECK(fifo_start());
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    /* The new local end starts out pending, on its queue. */
    CHECK_EQ(word_of(b), PENDING | LINKED);
    CHECK_EQ(word_of(a), 0);
    CHECK_EQ(cb->head[DEF], b);
    deliver();
    CHECK_EQ(nr_handled, 1);
    CHECK_EQ(evtchn_send(a), 0);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK_EQ(word_of(b), PENDING | LINKED | a);
    deliver();
    CHECK_EQ(nr_handled, 3);
    CHECK_EQ(handled[1], b);
    CHECK_EQ(handled[2], a);
}

TEST(bind_vcpu)
{
    evtchn_port_t a, b, p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    CHECK_EQ(evtchn_bind_vcpu(b, 0), 0);
    CHECK_EQ(evtchn_bind_vcpu(b, 1), -ENOENT);
    CHECK_EQ(evtchn_bind_vcpu(p, 0), -EINVAL);
    CHECK_EQ(evtchn_send(a), 0);
    CHECK_EQ(word_of(b), PENDING | LINKED);
    CHECK_EQ(cb->head[DEF], b);
}

/* SCHEDOP_poll reads the PENDING bit of the word, whoever set it. */
TEST(poll_reads_the_word)
{
    evtchn_port_t p;
    uint64_t t0, t1;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    t0 = system_time();
    CHECK_EQ(poll_ports(&p, 1, t0 + SECONDS(10)), 0);
    CHECK(system_time() - t0 < SECONDS(2));
    /* Handled (PENDING cleared, still LINKED): the poll sleeps to its timeout. */
    __atomic_fetch_and(word(p), ~PENDING, __ATOMIC_SEQ_CST);
    t0 = system_time();
    CHECK_EQ(poll_ports(&p, 1, t0 + MILLISECS(30)), 0);
    t1 = system_time();
    CHECK(t1 - t0 >= MILLISECS(29));
    /* PENDING set by the guest itself: at once. */
    __atomic_fetch_or(word(p), PENDING, __ATOMIC_SEQ_CST);
    t0 = system_time();
    CHECK_EQ(poll_ports(&p, 1, t0 + SECONDS(10)), 0);
    CHECK(system_time() - t0 < SECONDS(2));
}

TEST(block_with_event_queued)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    /* SCHEDOP_block unmasks events and, with one due, returns into the callback. */
    CHECK_EQ(block_vcpu(), 0);
    events_mask();
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(nr_handled, 1);
    CHECK_EQ(handled[0], p);
}

TEST(virq_timer)
{
    evtchn_port_t t;
    uint64_t t0;
    long rc;

    CHECK(fifo_start());
    /* Xen's 10 ms periodic timer would race the priority change: stopped first. */
    HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &t), 0);
    CHECK_EQ(set_priority(t, 1), 0);
    t0 = system_time();
    rc = set_timer_op(t0 + MILLISECS(1));
    if (rc == -ENOSYS)
        SKIP("set_timer_op is -ENOSYS: no vCPU timers here yet");
    CHECK_EQ(rc, 0);
    CHECK_EQ(poll_ports(&t, 1, t0 + SECONDS(5)), 0);
    CHECK(word_of(t) & PENDING);
    CHECK_EQ(cb->head[1], t);
    CHECK(cb->ready & (1U << 1));
    deliver();
    CHECK(nr_handled >= 1);
    CHECK_EQ(handled[0], t);
    CHECK_EQ(set_timer_op(0), 0);
    CHECK_EQ(evtchn_close(t), 0);
}

/*
 * EVTCHNOP_reset takes a FIFO domain back to 2-level and gives the frames back; the
 * FIFO set-up can then be done again.
 */
TEST(reset_back_to_2l)
{
    uint64_t f = frame_alloc();
    evtchn_port_t p;

    CHECK(f != 0);
    CHECK(fifo_reset());
    CHECK_EQ(init_control_at(f, 0, 0, NULL), 0);
    CHECK_EQ(pt_pin(1, f), -EINVAL);
    CHECK(ipi(&p));
    CHECK_EQ(reset_self(), 0);
    CHECK_EQ(state_of(p), EVTCHNSTAT_closed);
    CHECK_EQ(expand_array(image_mfn(array0)), -EOPNOTSUPP);
    CHECK(ipi(&p));
    CHECK_EQ(set_priority(p, 1), -ENOSYS);
    port_set_mask(p, false);
    CHECK_EQ(evtchn_send(p), 0);
    CHECK(port_pending(p));
    CHECK(selector_has(p));
    CHECK(upcall_pending());
    port_clear_pending(p);
    upcall_clear();
    CHECK_EQ(pt_pin(1, f), 0);
    CHECK_EQ(pt_unpin(f), 0);
    frame_free(f);
    /* reset_cont has nothing to continue, FIFO or not. */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset_cont,
                                         &(struct evtchn_reset){ .dom = DOMID_SELF }),
             -EBUSY);
    CHECK(fifo_start());
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
}

/* Last: the FIFO ABI stays on, so that the domain's end must give its frames back. */
TEST(left_on_for_teardown)
{
    evtchn_port_t p;

    CHECK(fifo_start());
    CHECK_EQ(expand_array(image_mfn(array1)), 0);
    CHECK(ipi(&p));
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word_of(p), PENDING | LINKED);
}
