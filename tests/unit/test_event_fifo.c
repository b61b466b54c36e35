/* Tests of the FIFO event-channel queue logic (hypervisor/common/event_fifo.c). */
#include <enso/errno.h>
#include <enso/event_fifo.h>
#include "harness.h"

#define PENDING (1U << EVTCHN_FIFO_PENDING)
#define MASKED (1U << EVTCHN_FIFO_MASKED)
#define LINKED (1U << EVTCHN_FIFO_LINKED)
#define BUSY (1U << EVTCHN_FIFO_BUSY)
#define NR_PORTS 2048
#define DEF EVTCHN_FIFO_PRIORITY_DEFAULT

/* A domain of two vCPUs: control blocks, two pages of event words, port records. */
static struct {
    struct evtchn_fifo f;
    struct evtchn_fifo_vcpu *slots[2];
} dom;
static struct evtchn_fifo *f = &dom.f;
static struct evtchn_fifo_vcpu fv[2];
static struct evtchn_fifo_control_block cb[2];
static struct vcpu_info vi[2];
static event_word_t pages[2][EVTCHN_FIFO_WORDS_PER_PAGE] __attribute__((aligned(4096)));
static struct evtchn chn[NR_PORTS];

static void reset(unsigned int nr_pages)
{
    memset(&dom, 0, sizeof(dom));
    memset(cb, 0, sizeof(cb));
    memset(vi, 0, sizeof(vi));
    memset(pages, 0, sizeof(pages));
    memset(chn, 0, sizeof(chn));
    f->nr_vcpus = 2;
    for (unsigned int i = 0; i < 2; i++) {
        evtchn_fifo_vcpu_init(&fv[i]);
        evtchn_fifo_attach_control(&fv[i], &cb[i]);
        f->vcpu[i] = &fv[i];
    }
    for (unsigned int p = 0; p < nr_pages; p++)
        evtchn_fifo_add_page(f, pages[p]);
    for (unsigned int p = 0; p < NR_PORTS; p++)
        evtchn_fifo_port_init(&chn[p]);
}

static event_word_t *w(evtchn_port_t port)
{
    return &pages[port / EVTCHN_FIFO_WORDS_PER_PAGE][port % EVTCHN_FIFO_WORDS_PER_PAGE];
}

static unsigned int raise(unsigned int vcpu, evtchn_port_t port)
{
    return evtchn_fifo_set_pending(f, vcpu, &vi[vcpu], &chn[port], port);
}

/* What a guest does when it takes the head of a queue: clear LINKED and LINK. */
static evtchn_port_t consume(event_word_t *word)
{
    event_word_t old = *word;

    *word = old & ~(LINKED | EVTCHN_FIFO_LINK_MASK);
    return old & EVTCHN_FIFO_LINK_MASK;
}

TEST(array_pages)
{
    reset(0);
    CHECK(evtchn_fifo_word(f, 0) == NULL);
    CHECK_EQ(evtchn_fifo_add_page(f, pages[0]), 0);
    CHECK(evtchn_fifo_word(f, 5) == &pages[0][5]);
    CHECK(evtchn_fifo_word(f, 1024) == NULL);
    CHECK_EQ(evtchn_fifo_add_page(f, pages[1]), 1024);
    CHECK(evtchn_fifo_word(f, 1030) == &pages[1][6]);
    CHECK(evtchn_fifo_word(f, 2048) == NULL);
    /* 128 pages cover the 17-bit port space; then the array is full. */
    for (unsigned int i = 2; i < EVTCHN_FIFO_MAX_PAGES; i++) {
        CHECK(!evtchn_fifo_array_full(f));
        CHECK_EQ(evtchn_fifo_add_page(f, pages[i & 1]), (int)(i * 1024));
    }
    CHECK(evtchn_fifo_array_full(f));
    CHECK_EQ(evtchn_fifo_add_page(f, pages[0]), -ENOSPC);
    CHECK(evtchn_fifo_word(f, EVTCHN_FIFO_NR_CHANNELS - 1) == &pages[1][1023]);
    CHECK(evtchn_fifo_word(f, EVTCHN_FIFO_NR_CHANNELS) == NULL);
    CHECK(evtchn_fifo_word(f, 0xffffffffU) == NULL);
}

TEST(first_event_becomes_head)
{
    reset(1);
    CHECK_EQ(raise(0, 5), EVTCHN_NEWLY_PENDING | EVTCHN_KICK);
    CHECK_EQ(*w(5), PENDING | LINKED);
    CHECK_EQ(cb[0].head[DEF], 5);
    CHECK_EQ(cb[0].ready, 1U << DEF);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 1);
    CHECK_EQ(fv[0].queue[DEF].tail, 5);
    /* Nothing for the other vCPU, nothing in the 2-level fields. */
    CHECK_EQ(cb[1].ready, 0);
    CHECK_EQ(vi[1].evtchn_upcall_pending, 0);
    CHECK_EQ(vi[0].evtchn_pending_sel, 0);
}

TEST(events_link_behind_the_tail)
{
    reset(1);
    raise(0, 5);
    vi[0].evtchn_upcall_pending = 0;
    CHECK_EQ(raise(0, 9), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(*w(5), PENDING | LINKED | 9);
    CHECK_EQ(*w(9), PENDING | LINKED);
    CHECK_EQ(raise(0, 3), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(*w(9), PENDING | LINKED | 3);
    /* The head, READY and the upcall flag are the first event's business only. */
    CHECK_EQ(cb[0].head[DEF], 5);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 0);
    CHECK_EQ(fv[0].queue[DEF].tail, 3);
}

TEST(already_pending_changes_nothing)
{
    reset(1);
    raise(0, 5);
    vi[0].evtchn_upcall_pending = 0;
    cb[0].ready = 0;
    CHECK_EQ(raise(0, 5), 0);
    CHECK_EQ(*w(5), PENDING | LINKED);
    CHECK_EQ(cb[0].ready, 0);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 0);
}

TEST(masked_event_waits_for_unmask)
{
    reset(1);
    *w(7) = MASKED;
    CHECK_EQ(raise(0, 7), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(*w(7), PENDING | MASKED);
    CHECK_EQ(cb[0].ready, 0);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 0);
    CHECK(evtchn_fifo_is_masked(f, 7));
    CHECK(evtchn_fifo_is_pending(f, 7));
    CHECK(!evtchn_fifo_is_busy(f, 7));
    /* Unmasked through the hypervisor: linked, the queue ready, the vCPU told. */
    CHECK_EQ(evtchn_fifo_unmask(f, 0, &vi[0], &chn[7], 7), EVTCHN_KICK);
    CHECK_EQ(*w(7), PENDING | LINKED);
    CHECK_EQ(cb[0].head[DEF], 7);
    CHECK_EQ(cb[0].ready, 1U << DEF);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 1);
}

TEST(unmask_without_pending)
{
    reset(1);
    *w(7) = MASKED;
    CHECK_EQ(evtchn_fifo_unmask(f, 0, &vi[0], &chn[7], 7), 0);
    CHECK_EQ(*w(7), 0);
    CHECK_EQ(cb[0].ready, 0);
    /* A port beyond the array: nothing to unmask. */
    CHECK_EQ(evtchn_fifo_unmask(f, 0, &vi[0], &chn[1500], 1500), 0);
}

TEST(unmask_of_a_linked_port_does_not_link_twice)
{
    reset(1);
    raise(0, 5);
    raise(0, 6);
    *w(5) |= MASKED;
    vi[0].evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_fifo_unmask(f, 0, &vi[0], &chn[5], 5), 0);
    CHECK_EQ(*w(5), PENDING | LINKED | 6);
    CHECK_EQ(fv[0].queue[DEF].tail, 6);
}

TEST(consumed_tail_empties_the_queue)
{
    reset(1);
    raise(0, 5);
    /* The guest takes 5 and, finding no LINK, clears READY. */
    CHECK_EQ(consume(w(5)), 0);
    *w(5) &= ~PENDING;
    cb[0].ready = 0;
    vi[0].evtchn_upcall_pending = 0;
    CHECK_EQ(raise(0, 9), EVTCHN_NEWLY_PENDING | EVTCHN_KICK);
    CHECK_EQ(cb[0].head[DEF], 9);
    CHECK_EQ(*w(5), 0); /* no LINK written into a word off the queue */
    CHECK_EQ(cb[0].ready, 1U << DEF);
}

TEST(ready_cleared_by_guest_with_a_linked_tail)
{
    reset(1);
    raise(0, 5);
    cb[0].ready = 0;
    vi[0].evtchn_upcall_pending = 0;
    /* The tail is still LINKED: the event is appended, READY is not set again. */
    CHECK_EQ(raise(0, 9), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(*w(5), PENDING | LINKED | 9);
    CHECK_EQ(cb[0].ready, 0);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 0);
}

TEST(upcall_flag_already_set_is_no_kick)
{
    reset(1);
    vi[0].evtchn_upcall_pending = 1;
    CHECK_EQ(raise(0, 5), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(cb[0].ready, 1U << DEF);
    /* READY already set for the queue: no kick either, even with the flag clear. */
    reset(1);
    cb[0].ready = 1U << DEF;
    CHECK_EQ(raise(0, 5), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 0);
    CHECK_EQ(cb[0].head[DEF], 5);
}

TEST(vcpu_without_vcpu_info)
{
    reset(1);
    CHECK_EQ(evtchn_fifo_set_pending(f, 0, NULL, &chn[5], 5), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(cb[0].ready, 1U << DEF);
    CHECK_EQ(*w(5), PENDING | LINKED);
}

TEST(linking_clears_busy_and_replaces_link)
{
    reset(1);
    raise(0, 5);
    /* A BUSY bit and a stale LINK on the tail: the exchange replaces both. */
    *w(5) |= BUSY | 0x1234;
    raise(0, 9);
    CHECK_EQ(*w(5), PENDING | LINKED | 9);
    CHECK_EQ(*w(9), PENDING | LINKED);
}

TEST(linked_by_the_guest_is_left_alone)
{
    reset(1);
    *w(8) = LINKED;
    CHECK_EQ(raise(0, 8), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(*w(8), PENDING | LINKED);
    CHECK_EQ(cb[0].head[DEF], 0);
    CHECK_EQ(cb[0].ready, 0);
    CHECK_EQ(fv[0].queue[DEF].tail, 0);
}

TEST(priorities_have_their_own_queues)
{
    reset(1);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[10], 10), 0);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[3], 3), 0);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[4], 3), 0);
    raise(0, 10);
    raise(0, 3);
    raise(0, 7);
    raise(0, 4);
    CHECK_EQ(cb[0].ready, (1U << 10) | (1U << 3) | (1U << DEF));
    CHECK_EQ(cb[0].head[10], 10);
    CHECK_EQ(cb[0].head[3], 3);
    CHECK_EQ(cb[0].head[DEF], 7);
    CHECK_EQ(*w(3) & EVTCHN_FIFO_LINK_MASK, 4);
    CHECK_EQ(*w(7) & EVTCHN_FIFO_LINK_MASK, 0);
    CHECK_EQ(*w(10) & EVTCHN_FIFO_LINK_MASK, 0);
}

TEST(priority_limits)
{
    reset(1);
    CHECK_EQ(chn[1].priority, DEF);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[1], 0), 0);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[1], 15), 0);
    CHECK_EQ(chn[1].priority, 15);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[1], 16), -EINVAL);
    CHECK_EQ(evtchn_fifo_set_priority(&chn[1], 0xffffffffU), -EINVAL);
    CHECK_EQ(chn[1].priority, 15);
    evtchn_fifo_port_init(&chn[1]);
    CHECK_EQ(chn[1].priority, DEF);
}

TEST(priority_change_applies_to_the_next_link)
{
    reset(1);
    raise(0, 5);
    evtchn_fifo_set_priority(&chn[5], 2);
    /* Still on queue 7 (it is linked there): another event there goes behind it. */
    raise(0, 6);
    CHECK_EQ(*w(5), PENDING | LINKED | 6);
    CHECK_EQ(cb[0].ready, 1U << DEF);
}

/*
 * A port that moves to another queue leaves its old queue's tail behind; that tail
 * is forgotten, so the old queue's next event becomes a head instead of linking from
 * the word now on the new queue.
 */
TEST(moved_port_no_longer_tail_of_old_queue)
{
    reset(1);
    raise(0, 5);
    consume(w(5));
    *w(5) &= ~PENDING;
    cb[0].ready = 0;
    evtchn_fifo_set_priority(&chn[5], 3);
    raise(0, 5);
    CHECK_EQ(cb[0].head[3], 5);
    CHECK_EQ(fv[0].queue[DEF].tail, 0);
    CHECK_EQ(chn[5].fifo_last_priority, 3);
    raise(0, 9);
    CHECK_EQ(cb[0].head[DEF], 9);
    CHECK_EQ(*w(5), PENDING | LINKED); /* no LINK to 9 */
    CHECK_EQ(cb[0].ready, (1U << 3) | (1U << DEF));
}

TEST(port_moves_to_another_vcpu)
{
    reset(1);
    raise(0, 5);
    consume(w(5));
    *w(5) &= ~PENDING;
    /* Bound to vCPU 1 now (bind_vcpu changes nothing else): its queue, its flag. */
    CHECK_EQ(raise(1, 5), EVTCHN_NEWLY_PENDING | EVTCHN_KICK);
    CHECK_EQ(cb[1].head[DEF], 5);
    CHECK_EQ(cb[1].ready, 1U << DEF);
    CHECK_EQ(vi[1].evtchn_upcall_pending, 1);
    CHECK_EQ(fv[0].queue[DEF].tail, 0);
    CHECK_EQ(fv[1].queue[DEF].tail, 5);
    CHECK_EQ(chn[5].fifo_last_vcpu, 1);
    /* vCPU 0's queue starts afresh with its next event. */
    vi[0].evtchn_upcall_pending = 0;
    cb[0].ready = 0;
    CHECK_EQ(raise(0, 9), EVTCHN_NEWLY_PENDING | EVTCHN_KICK);
    CHECK_EQ(cb[0].head[DEF], 9);
    CHECK_EQ(*w(5) & EVTCHN_FIFO_LINK_MASK, 0);
}

TEST(still_linked_port_stays_on_its_vcpu)
{
    reset(1);
    raise(0, 5);
    *w(5) &= ~PENDING; /* handled but not yet unlinked */
    CHECK_EQ(raise(1, 5), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(cb[1].ready, 0);
    CHECK_EQ(vi[1].evtchn_upcall_pending, 0);
    CHECK_EQ(fv[0].queue[DEF].tail, 5);
}

TEST(no_word_remembers_the_event)
{
    reset(1);
    CHECK_EQ(raise(0, 1500), 0);
    CHECK(chn[1500].fifo_pending);
    CHECK_EQ(cb[0].ready, 0);
    CHECK_EQ(vi[0].evtchn_upcall_pending, 0);
    CHECK(!evtchn_fifo_is_pending(f, 1500));
    CHECK(evtchn_fifo_is_masked(f, 1500));
    CHECK(!evtchn_fifo_is_busy(f, 1500));
    /* The page arrives; the caller raises what was remembered. */
    CHECK_EQ(evtchn_fifo_add_page(f, pages[1]), 1024);
    CHECK_EQ(raise(0, 1500), EVTCHN_NEWLY_PENDING | EVTCHN_KICK);
    CHECK_EQ(*w(1500), PENDING | LINKED);
    CHECK_EQ(cb[0].head[DEF], 1500);
}

TEST(vcpu_without_control_block_loses_the_event)
{
    reset(1);
    evtchn_fifo_vcpu_init(&fv[1]);
    CHECK_EQ(raise(1, 5), 0);
    CHECK_EQ(*w(5), 0);
    CHECK(!chn[5].fifo_pending);
    CHECK_EQ(vi[1].evtchn_upcall_pending, 0);
    /* A vCPU id beyond the domain's likewise. */
    CHECK_EQ(evtchn_fifo_set_pending(f, 7, NULL, &chn[5], 5), 0);
    CHECK_EQ(*w(5), 0);
}

TEST(clear_pending_leaves_the_rest)
{
    reset(1);
    raise(0, 5);
    raise(0, 6);
    evtchn_fifo_clear_pending(f, 5);
    CHECK_EQ(*w(5), LINKED | 6);
    CHECK(evtchn_fifo_is_busy(f, 5));
    CHECK(!evtchn_fifo_is_pending(f, 5));
    CHECK(!evtchn_fifo_is_masked(f, 5));
    evtchn_fifo_clear_pending(f, 1500); /* no word: nothing */
}

TEST(control_block_at_an_offset)
{
    static uint8_t frame[4096] __attribute__((aligned(4096)));
    struct evtchn_fifo_control_block *at = (void *)(frame + 4024);

    reset(1);
    memset(frame, 0, sizeof(frame));
    evtchn_fifo_vcpu_init(&fv[1]);
    evtchn_fifo_attach_control(&fv[1], at);
    raise(1, 12);
    CHECK_EQ(at->ready, 1U << DEF);
    CHECK_EQ(at->head[DEF], 12);
    CHECK_EQ(frame[4024 + 8 + 4 * DEF], 12);
}
