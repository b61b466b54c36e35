/*
 * Tests of the TSC-to-ns arithmetic in <asm/pvclock.h>: the scale for a frequency, that
 * time records on the grid extrapolate to exactly the same ns as the scale from boot
 * (what keeps a guest's clock equal to enso's NOW()), and that the inverse never gives
 * a TSC value at which NOW() is still before the deadline.
 */
#include <asm/pvclock.h>
#include "harness.h"

static const uint64_t freqs[] = { 1000000,    999999999,  1000000000, 1000000001, 1999999999,
                                  2000000000, 2000000001, 2600000000ULL, 3312000000ULL,
                                  5000000000ULL, 12345678901ULL };

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

TEST(scale_is_normalised_and_on_the_grid)
{
    for (unsigned int i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        struct pvclock_scale s = pvclock_scale_for_hz(freqs[i]);

        CHECK(s.mul >= (1U << 31));
        CHECK_EQ(s.mul % (1U << PVCLOCK_MUL_ALIGN_BITS), 0);
        /* One grid step scales to a whole number of ns: nothing is rounded away. */
        CHECK_EQ((((unsigned __int128)PVCLOCK_GRID_UNITS * s.mul) & 0xffffffffULL), 0);
    }
}

TEST(scale_matches_the_frequency)
{
    for (unsigned int i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        struct pvclock_scale s = pvclock_scale_for_hz(freqs[i]);
        /* One second of ticks is one second, to within the rounding of mul (and of hz
         * when it is halved to fit). */
        uint64_t ns = pvclock_scale_delta(freqs[i], &s);
        uint64_t err = ns > 1000000000ULL ? ns - 1000000000ULL : 1000000000ULL - ns;

        CHECK(err <= 1000); /* 1 ppm */
    }
    /* The shift for a 2.6 GHz TSC is one right shift, as Xen's is. */
    CHECK_EQ(pvclock_scale_for_hz(2600000000ULL).shift, -1);
    CHECK_EQ(pvclock_scale_for_hz(1000000).shift, 10);
}

TEST(grid_records_extrapolate_exactly)
{
    for (unsigned int i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        struct pvclock_scale s = pvclock_scale_for_hz(freqs[i]);
        uint64_t grid = pvclock_grid_ticks(&s);

        CHECK(grid && !(grid & (grid - 1)));
        for (int n = 0; n < 20000; n++) {
            /* A record stamped at a grid point up to a day of ticks after boot, read up
             * to 10 s later: the guest's sum equals the scale of the whole span. */
            uint64_t stamp = (rnd() % (freqs[i] * 86400 / grid)) * grid;
            uint64_t later = rnd() % (freqs[i] * 10);

            CHECK_EQ(pvclock_scale_delta(stamp, &s) + pvclock_scale_delta(later, &s),
                     pvclock_scale_delta(stamp + later, &s));
        }
    }
}

TEST(off_grid_records_would_lag)
{
    /* The reason for the grid: a stamp anywhere else can make the guest's sum come out
     * below the scale from boot, i.e. the guest would see a timer fire early. */
    struct pvclock_scale s = pvclock_scale_for_hz(2600000000ULL);
    int behind = 0;

    for (int n = 0; n < 10000 && !behind; n++) {
        uint64_t stamp = rnd() % (1ULL << 40), later = rnd() % (1ULL << 32);

        behind = pvclock_scale_delta(stamp, &s) + pvclock_scale_delta(later, &s) <
                 pvclock_scale_delta(stamp + later, &s);
    }
    CHECK(behind);
}

TEST(ticks_for_ns_is_the_first_tick_at_or_past)
{
    for (unsigned int i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        struct pvclock_scale s = pvclock_scale_for_hz(freqs[i]);

        for (int n = 0; n < 20000; n++) {
            uint64_t ns = n < 100 ? (uint64_t)n : rnd() % (1ULL << (n % 50 + 10));
            uint64_t t = pvclock_ticks_for_ns(ns, &s);

            CHECK(t != UINT64_MAX);
            CHECK(pvclock_scale_delta(t, &s) >= ns);
            CHECK(t == 0 || pvclock_scale_delta(t - 1, &s) < ns);
        }
    }
}

TEST(ticks_for_ns_out_of_reach)
{
    struct pvclock_scale s = pvclock_scale_for_hz(12345678901ULL);

    CHECK_EQ(pvclock_ticks_for_ns(UINT64_MAX, &s), UINT64_MAX);
    CHECK_EQ(pvclock_ticks_for_ns(1ULL << 62, &s), UINT64_MAX);
    s = pvclock_scale_for_hz(1000000);
    CHECK(pvclock_ticks_for_ns(1ULL << 62, &s) < UINT64_MAX);
}
