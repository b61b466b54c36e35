/*
 * TSC ticks to nanoseconds the way PV guests compute it from vcpu_time_info (pure
 * arithmetic, no state): ns = ((delta shifted by shift) * mul) >> 32, a right shift
 * for a negative shift, mul a 32-bit fraction.
 *
 * enso's system time is this function of the TSC since boot, and every time record it
 * hands a guest is a point of it: so that the guest's extrapolation from an older record
 * gives exactly the same nanoseconds as enso's NOW(), the records sit on a grid where
 * the scaling adds up exactly. mul is kept a multiple of 2^PVCLOCK_MUL_ALIGN_BITS, so
 * that PVCLOCK_GRID_UNITS shifted ticks scale to a whole number of ns with nothing
 * rounded away; every stamp is a whole number of such steps after boot.
 */
#ifndef ASM_PVCLOCK_H
#define ASM_PVCLOCK_H

#include <enso/types.h>

#define PVCLOCK_MUL_ALIGN_BITS 8
#define PVCLOCK_GRID_UNITS (1ULL << (32 - PVCLOCK_MUL_ALIGN_BITS))

struct pvclock_scale {
    uint32_t mul;  /* ns per shifted tick, as a 0.32 fixed-point fraction */
    int8_t shift;  /* applied to the tick count first: left if positive */
};

/* The scale for a TSC running at hz (at least 1): mul in [2^31, 2^32), rounded to the
 * grid multiple, so the rate is off by less than 2^-24 (0.06 ppm). */
static inline struct pvclock_scale pvclock_scale_for_hz(uint64_t hz)
{
    const uint64_t ns_per_s = 1000000000ULL;
    struct pvclock_scale s = { 0, 0 };
    uint64_t mul;

    /* Bring hz into (10^9, 2 * 10^9], so that 10^9 / hz (times 2^32) is in [2^31, 2^32). */
    while (hz > 2 * ns_per_s) {
        hz >>= 1;
        s.shift--;
    }
    while (hz <= ns_per_s) {
        hz <<= 1;
        s.shift++;
    }
    mul = (ns_per_s << 32) / hz;
    mul = (mul + (1ULL << (PVCLOCK_MUL_ALIGN_BITS - 1))) & ~((1ULL << PVCLOCK_MUL_ALIGN_BITS) - 1);
    if (mul >= (1ULL << 32))
        mul = (1ULL << 32) - (1ULL << PVCLOCK_MUL_ALIGN_BITS);
    s.mul = (uint32_t)mul;
    return s;
}

static inline uint64_t pvclock_shift(uint64_t delta, int shift)
{
    return shift < 0 ? delta >> -shift : delta << shift;
}

/* Nanoseconds for delta ticks. */
static inline uint64_t pvclock_scale_delta(uint64_t delta, const struct pvclock_scale *s)
{
    return (uint64_t)(((unsigned __int128)pvclock_shift(delta, s->shift) * s->mul) >> 32);
}

/* Ticks in one grid step: PVCLOCK_GRID_UNITS once shifted. */
static inline uint64_t pvclock_grid_ticks(const struct pvclock_scale *s)
{
    return s->shift < 0 ? PVCLOCK_GRID_UNITS << -s->shift : PVCLOCK_GRID_UNITS >> s->shift;
}

/*
 * The fewest ticks that scale to at least ns (so a timer programmed that many ticks
 * after a point fires no earlier than ns after it); UINT64_MAX if out of reach.
 * ceil(ns * 2^32 / mul), computed in two 64-bit divisions since mul fits in 32 bits.
 */
static inline uint64_t pvclock_ticks_for_ns(uint64_t ns, const struct pvclock_scale *s)
{
    uint64_t hi = ns / s->mul, r = ns % s->mul, lo, units;

    if (hi >= (1ULL << 32) - 1)
        return UINT64_MAX;
    lo = (r << 32) / s->mul;
    units = (hi << 32) + lo + ((r << 32) % s->mul != 0);
    if (s->shift < 0) {
        if (units >> (64 + s->shift))
            return UINT64_MAX;
        return units << -s->shift;
    }
    if (units > UINT64_MAX - ((1ULL << s->shift) - 1))
        return UINT64_MAX;
    return (units + (1ULL << s->shift) - 1) >> s->shift;
}

#endif
