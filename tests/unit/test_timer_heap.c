/* Host tests of the timer min-heap, against a plain array kept sorted as a reference. */
#include "harness.h"
#include <stdint.h>
#include <enso/timer_heap.h>
#include <enso/errno.h>

static uint64_t rng = 0xdeadbeefcafef00dULL;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

TEST(time_macros)
{
    CHECK_EQ(SECONDS(2), 2000000000LL);
    CHECK_EQ(MILLISECS(3), 3000000LL);
    CHECK_EQ(MICROSECS(5), 5000LL);
    CHECK_EQ(SECONDS(10) / NSEC_PER_SEC, 10);
    CHECK(SECONDS(100) > (s_time_t)UINT32_MAX); /* no 32-bit overflow */
}

TEST(empty_heap)
{
    struct timer *slots[4];
    struct timer_heap h;
    struct timer t = { .expires = 5 };

    timer_heap_init(&h, slots, 4);
    CHECK(timer_heap_peek(&h) == NULL);
    CHECK(timer_heap_pop(&h) == NULL);
    CHECK(!timer_heap_remove(&h, &t));
    CHECK(timer_heap_check(&h));
}

TEST(pops_in_order)
{
    enum { N = 200 };
    static struct timer t[N], *slots[N];
    struct timer_heap h;
    s_time_t last = INT64_MIN;

    timer_heap_init(&h, slots, N);
    for (int i = 0; i < N; i++) {
        t[i].expires = (s_time_t)(rnd() % 50) - 25; /* many ties, some negative */
        CHECK_EQ(timer_heap_add(&h, &t[i]), 0);
        CHECK(t[i].heap_index != 0);
    }
    CHECK(timer_heap_check(&h));
    for (int i = 0; i < N; i++) {
        struct timer *x = timer_heap_pop(&h);

        CHECK(x != NULL);
        CHECK(x->expires >= last);
        CHECK_EQ(x->heap_index, 0);
        last = x->expires;
        CHECK(timer_heap_check(&h));
    }
    CHECK(timer_heap_pop(&h) == NULL);
}

TEST(capacity_and_double_add)
{
    struct timer t[4] = { { .expires = 3 }, { .expires = 1 }, { .expires = 2 }, { .expires = 0 } };
    struct timer *slots[3];
    struct timer_heap h;

    timer_heap_init(&h, slots, 3);
    CHECK_EQ(timer_heap_add(&h, &t[0]), 0);
    CHECK_EQ(timer_heap_add(&h, &t[0]), -EEXIST);
    CHECK_EQ(timer_heap_add(&h, &t[1]), 0);
    CHECK_EQ(timer_heap_add(&h, &t[2]), 0);
    CHECK_EQ(timer_heap_add(&h, &t[3]), -ENOSPC);
    CHECK_EQ(t[3].heap_index, 0);
    CHECK_EQ(h.nr, 3);
    CHECK(timer_heap_peek(&h) == &t[1]);
    CHECK(timer_heap_remove(&h, &t[1]));
    CHECK(!timer_heap_remove(&h, &t[1]));
    CHECK_EQ(timer_heap_add(&h, &t[3]), 0);
    CHECK(timer_heap_peek(&h) == &t[3]);
    CHECK(timer_heap_check(&h));
}

TEST(remove_checks_membership)
{
    struct timer a = { .expires = 1 }, b = { .expires = 2 };
    struct timer *s1[2], *s2[2];
    struct timer_heap h1, h2;

    timer_heap_init(&h1, s1, 2);
    timer_heap_init(&h2, s2, 2);
    CHECK_EQ(timer_heap_add(&h1, &a), 0);
    CHECK_EQ(timer_heap_add(&h2, &b), 0);
    /* Both have heap_index 1, but each lives in the other heap. */
    CHECK(!timer_heap_remove(&h1, &b));
    CHECK(!timer_heap_remove(&h2, &a));
    CHECK_EQ(h1.nr + h2.nr, 2);
    CHECK(timer_heap_remove(&h1, &a));
    CHECK(timer_heap_remove(&h2, &b));
}

TEST(check_catches_damage)
{
    struct timer t[3] = { { .expires = 1 }, { .expires = 2 }, { .expires = 3 } };
    struct timer *slots[3];
    struct timer_heap h;

    timer_heap_init(&h, slots, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(timer_heap_add(&h, &t[i]), 0);
    CHECK(timer_heap_check(&h));
    t[0].expires = 10; /* changed behind the heap's back */
    CHECK(!timer_heap_check(&h));
    CHECK(strstr(unit_log(), "timer_heap") != NULL);
    t[0].expires = 1;
    t[1].heap_index = 3;
    CHECK(!timer_heap_check(&h));
    t[1].heap_index = 2;
    CHECK(timer_heap_check(&h));
}

/* The reference: the expiry times of queued timers, kept sorted. */
static s_time_t ref[1024];
static unsigned int ref_nr;

static void ref_insert(s_time_t e)
{
    unsigned int i = ref_nr++;

    while (i > 0 && ref[i - 1] > e) {
        ref[i] = ref[i - 1];
        i--;
    }
    ref[i] = e;
}

static bool ref_erase(s_time_t e)
{
    for (unsigned int i = 0; i < ref_nr; i++) {
        if (ref[i] == e) {
            memmove(&ref[i], &ref[i + 1], (ref_nr - i - 1) * sizeof(ref[0]));
            ref_nr--;
            return true;
        }
    }
    return false;
}

TEST(random_against_reference)
{
    enum { N = 1024 };
    static struct timer t[N], *slots[N];
    struct timer_heap h;

    timer_heap_init(&h, slots, N);
    ref_nr = 0;
    for (int it = 0; it < 200000; it++) {
        uint64_t r = rnd();
        struct timer *x = &t[(r >> 8) % N];

        switch (r % 4) {
        case 0:
        case 1: /* add (or fail because it is queued already) */
            if (x->heap_index) {
                CHECK_EQ(timer_heap_add(&h, x), -EEXIST);
                break;
            }
            x->expires = (s_time_t)((r >> 24) % 100000);
            CHECK_EQ(timer_heap_add(&h, x), 0);
            ref_insert(x->expires);
            break;
        case 2: { /* remove an arbitrary timer */
            bool queued = x->heap_index != 0;

            CHECK_EQ(timer_heap_remove(&h, x), queued);
            if (queued)
                CHECK(ref_erase(x->expires));
            break;
        }
        case 3: /* pop the earliest */
            x = timer_heap_pop(&h);
            CHECK_EQ(x != NULL, ref_nr != 0);
            if (x) {
                CHECK_EQ(x->expires, ref[0]);
                CHECK(ref_erase(x->expires));
            }
            break;
        }
        CHECK_EQ(h.nr, ref_nr);
        if (ref_nr)
            CHECK_EQ(timer_heap_peek(&h)->expires, ref[0]);
        if (it % 1000 == 0)
            CHECK(timer_heap_check(&h));
    }
    CHECK(timer_heap_check(&h));
    while (ref_nr) {
        struct timer *x = timer_heap_pop(&h);

        CHECK(x != NULL);
        CHECK_EQ(x->expires, ref[0]);
        ref_erase(ref[0]);
    }
    CHECK_EQ(h.nr, 0);
}
