/* Tests of the XCR0 rules in <asm/xstate.h>: what is valid, what a guest may set,
 * what enso enables from the CPU's components. */
#include <asm/xstate.h>
#include "harness.h"

#define PKRU (1ULL << 9)
#define AMX (3ULL << 17)      /* XTILECFG, XTILEDATA */

TEST(valid_needs_x87)
{
    CHECK(!xcr0_valid(0));
    CHECK(!xcr0_valid(XSTATE_SSE));
    CHECK(!xcr0_valid(XSTATE_SSE | XSTATE_YMM));
    CHECK(xcr0_valid(XSTATE_X87));
    CHECK(xcr0_valid(XSTATE_FP_SSE));
}

TEST(valid_ymm_needs_sse)
{
    CHECK(!xcr0_valid(XSTATE_X87 | XSTATE_YMM));
    CHECK(xcr0_valid(XSTATE_FP_SSE | XSTATE_YMM));
}

TEST(valid_avx512_all_or_nothing_on_ymm)
{
    uint64_t base = XSTATE_FP_SSE | XSTATE_YMM;

    CHECK(xcr0_valid(base | XSTATE_AVX512));
    CHECK(!xcr0_valid(XSTATE_FP_SSE | XSTATE_AVX512));
    CHECK(!xcr0_valid(base | XSTATE_OPMASK));
    CHECK(!xcr0_valid(base | XSTATE_ZMM_HI256));
    CHECK(!xcr0_valid(base | XSTATE_HI16_ZMM));
    CHECK(!xcr0_valid(base | XSTATE_OPMASK | XSTATE_ZMM_HI256));
}

TEST(valid_mpx_pair)
{
    CHECK(!xcr0_valid(XSTATE_FP_SSE | XSTATE_BNDREGS));
    CHECK(!xcr0_valid(XSTATE_FP_SSE | XSTATE_BNDCSR));
    CHECK(xcr0_valid(XSTATE_FP_SSE | XSTATE_BNDREGS | XSTATE_BNDCSR));
}

TEST(guest_limited_to_its_cpuid)
{
    uint64_t avx = XSTATE_FP_SSE | XSTATE_YMM;

    CHECK(xcr0_guest_allowed(XSTATE_FP_SSE, avx));
    CHECK(xcr0_guest_allowed(XSTATE_X87, avx));
    CHECK(xcr0_guest_allowed(avx, avx));
    CHECK(!xcr0_guest_allowed(avx, XSTATE_FP_SSE));
    CHECK(!xcr0_guest_allowed(avx | XSTATE_AVX512, avx));
    CHECK(!xcr0_guest_allowed(XSTATE_FP_SSE | PKRU, avx));
    CHECK(!xcr0_guest_allowed(XSTATE_FP_SSE | (1ULL << 63), avx));
    /* Valid values only, even within the offered ones. */
    CHECK(!xcr0_guest_allowed(XSTATE_SSE, avx));
    CHECK(!xcr0_guest_allowed(XSTATE_X87 | XSTATE_YMM, avx));
    CHECK(!xcr0_guest_allowed(0, avx));
}

TEST(host_mask_keeps_what_xen_offers)
{
    /* QEMU's "max" CPU: x87 SSE YMM BNDREGS BNDCSR PKRU. */
    CHECK_EQ(xstate_host_mask(0x21f), XSTATE_FP_SSE | XSTATE_YMM);
    /* A Sapphire Rapids-like CPU: AVX-512 stays, AMX and PKRU do not. */
    CHECK_EQ(xstate_host_mask(0x2e7 | AMX), XSTATE_FP_SSE | XSTATE_YMM | XSTATE_AVX512);
    CHECK_EQ(xstate_host_mask(XSTATE_FP_SSE), XSTATE_FP_SSE);
}

TEST(host_mask_always_valid)
{
    /* Partial AVX-512, or AVX-512 without YMM, is dropped rather than enabled. */
    CHECK_EQ(xstate_host_mask(0x27), XSTATE_FP_SSE | XSTATE_YMM);
    CHECK_EQ(xstate_host_mask(XSTATE_FP_SSE | XSTATE_AVX512), XSTATE_FP_SSE);
    /* Without x87 and SSE both, no XSAVE at all. */
    CHECK_EQ(xstate_host_mask(XSTATE_X87 | XSTATE_YMM), 0);
    CHECK_EQ(xstate_host_mask(0), 0);
    for (uint64_t m = 0; m < 0x400; m++) {
        uint64_t h = xstate_host_mask(m);

        CHECK(!h || xcr0_valid(h));
        CHECK(!(h & ~m));
    }
}
