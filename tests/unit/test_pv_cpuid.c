/* Tests of the CPUID view of 64-bit PV guests (Xen 4.17's default PV policy). */
#include <asm/pv_cpuid.h>
#include "harness.h"
#include "pv_fake_host.h"

static struct pv_cpuid_ctx ctx;

static void setup(host_cpuid_fn host, bool xsave)
{
    memset(&ctx, 0, sizeof(ctx));
    ctx.host = host;
    ctx.nr_vcpus = 2;
    ctx.xen_major = 4;
    ctx.xen_minor = 17;
    ctx.tsc_khz = 3000000;
    ctx.xsave_available = xsave;
    ctx.vtsc_offset = 0x123456789abcull;
    ctx.max_page = 0x80000; /* 2 GiB */
}

static struct cpuid_regs q(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;

    memset(&r, 0xcc, sizeof(r));
    pv_cpuid(&ctx, leaf, subleaf, &r);
    return r;
}

static bool is_zero(struct cpuid_regs r)
{
    return !r.a && !r.b && !r.c && !r.d;
}

/* Leaf 1 of the all-ones Intel host without XSAVE. */
#define L1C_BASE (B(0) | B(1) | B(9) | B(13) | B(19) | B(20) | B(22) | B(23) | B(25) | \
                  B(30) | B(31))
#define L1C_XSAVE (B(12) | B(26) | B(28) | B(29)) /* FMA, XSAVE, AVX, F16C */
#define L1D_ALL (B(0) | B(2) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(11) | B(14) | \
                 B(15) | B(16) | B(19) | B(22) | B(23) | B(24) | B(25) | B(26) | B(27) | \
                 B(28))

TEST(leaf1_hides_what_pv_cannot_use)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(1, 0);

    CHECK_EQ(r.a, FMS_SAPPHIRE_RAPIDS);
    CHECK_EQ(r.b, 0x00ffffff);       /* APIC ID 0, the rest (clflush, lppp) passes */
    CHECK_EQ(r.c, L1C_BASE);
    CHECK_EQ(r.d, L1D_ALL);
    /* Named, for the reader: VMX, MONITOR, X2APIC, TSC-deadline, PCID, EIST, XSAVE. */
    CHECK(!(r.c & (B(5) | B(3) | B(21) | B(24) | B(17) | B(7) | B(26) | B(27))));
    CHECK(r.c & B(31));               /* hypervisor */
    CHECK(!(r.d & (B(1) | B(3) | B(12) | B(13) | B(17) | B(21) | B(29) | B(31))));
}

TEST(xsave_available_shows_avx_and_osxsave_for_the_kernel)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, true);
    CHECK_EQ(q(1, 0).c, L1C_BASE | L1C_XSAVE);     /* user mode: no OSXSAVE */
    ctx.kernel_mode = true;
    CHECK_EQ(q(1, 0).c, L1C_BASE | L1C_XSAVE | B(27));
    ctx.kernel_mode = false;
    ctx.guest_cr4_osxsave = true;
    CHECK_EQ(q(1, 0).c, L1C_BASE | L1C_XSAVE | B(27));
    /* Without XSAVE the guest's CR4 bit cannot bring OSXSAVE back. */
    ctx.xsave_available = false;
    ctx.kernel_mode = true;
    CHECK_EQ(q(1, 0).c, L1C_BASE);
}

TEST(leaf7_features)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(7, 0);
    uint32_t b = B(0) | B(3) | B(6) | B(8) | B(9) | B(11) | B(13) | B(18) | B(19) | B(23) |
                 B(24) | B(29);
    uint32_t c = B(0) | B(8) | B(22) | B(25);
    uint32_t d = B(4) | B(10) | B(14) | B(26) | B(27) | B(29) | B(31);

    CHECK_EQ(r.a, 2);
    CHECK_EQ(r.b, b);   /* no SMEP, SMAP, INVPCID, HLE, MPX, TSC_ADJUST, SGX, PT */
    CHECK_EQ(r.c, c);   /* no UMIP, PKU, OSPKE, CET, MOVDIRI, ENQCMD */
    CHECK_EQ(r.d, d);   /* no L1D_FLUSH, CET_IBT, TSXLDTRK, SRBDS_CTRL */
    r = q(7, 1);
    CHECK_EQ(r.a, B(10) | B(11) | B(12));
    CHECK(!r.b && !r.c && !r.d);
    r = q(7, 2);
    CHECK_EQ(r.d, B(0) | B(5));          /* INTEL_PSFD, MCDT_NO */
    CHECK_EQ(r.a, 0xffffffff);           /* registers without features: the host's */
    CHECK(is_zero(q(7, 3)));

    setup(fake_cpuid, true);
    r = q(7, 0);
    CHECK_EQ(r.b, b | B(5) | B(16) | B(17) | B(21) | B(26) | B(27) | B(28) | B(30) | B(31));
    CHECK_EQ(r.c, c | B(1) | B(6) | B(9) | B(10) | B(11) | B(12) | B(14));
    CHECK_EQ(r.d, d | B(2) | B(3));
    CHECK_EQ(q(7, 1).a, B(4) | B(5) | B(10) | B(11) | B(12));
}

TEST(hypervisor_bit_always_set)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    fake_override(1, 0, 2, ~B(31));              /* bare metal */
    setup(fake_cpuid, false);
    CHECK_EQ(q(1, 0).c, L1C_BASE);
}

TEST(fpu_pointer_quirks_follow_the_host)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    fake_override(7, 0, 1, ~(B(6) | B(13)));
    setup(fake_cpuid, false);
    CHECK(!(q(7, 0).b & (B(6) | B(13))));
}

TEST(leaf_0xd)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    CHECK(is_zero(q(0xd, 0)) && is_zero(q(0xd, 1)) && is_zero(q(0xd, 2)));

    setup(fake_cpuid, true);
    struct cpuid_regs r = q(0xd, 0);

    CHECK_EQ(r.a, 0xe7);       /* x87, SSE, YMM, opmask, ZMM_Hi256, Hi16_ZMM */
    CHECK_EQ(r.b, 0xa88);      /* live from the hardware */
    CHECK_EQ(r.c, 2688);       /* end of Hi16_ZMM: 1664 + 1024 */
    CHECK_EQ(r.d, 0);
    r = q(0xd, 1);
    CHECK_EQ(r.a, 7);          /* XSAVEOPT, XSAVEC, XGETBV1; never XSAVES */
    CHECK_EQ(r.b, 0x988);
    CHECK(!r.c && !r.d);
    r = q(0xd, 2);
    CHECK(r.a == 256 && r.b == 576 && r.c == 2 && r.d == 0);
    CHECK(is_zero(q(0xd, 3)));  /* MPX */
    CHECK(is_zero(q(0xd, 9)));  /* PKRU */
    CHECK(is_zero(q(0xd, 63)));
}

TEST(dependencies_drop_dependents)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    fake_override(1, 0, 2, ~B(28));          /* a host without AVX */
    setup(fake_cpuid, true);
    CHECK_EQ(q(1, 0).c & (B(12) | B(26) | B(28) | B(29)), B(26));
    CHECK(!(q(7, 0).b & (B(5) | B(16) | B(31))));
    CHECK(!(q(7, 0).c & (B(9) | B(10))));   /* VAES, VPCLMULQDQ need AVX2 */
    CHECK_EQ(q(0xd, 0).a, 3);
    CHECK_EQ(q(0xd, 0).c, 576);

    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    fake_override(1, 0, 3, ~B(26));          /* a host without SSE2 */
    setup(fake_cpuid, false);
    CHECK(!(q(1, 0).c & (B(0) | B(1) | B(9) | B(13) | B(19) | B(20) | B(25))));
    CHECK(!(q(0x80000001u, 0).d & B(29)));  /* no long mode... */
    CHECK(!(q(0x80000001u, 0).c & B(0)));   /* ...so no LAHF_LM */
    CHECK(!(q(7, 0).b & B(29)));            /* SHA */
}

TEST(leaf4_caches)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(4, 1);

    CHECK_EQ(r.a, 0xffffc3e2u);
    CHECK(r.b == 0xffffffff && r.c == 0xffffffff && r.d == 7);
    CHECK(is_zero(q(4, 3)) && is_zero(q(4, 4)) && is_zero(q(4, 6)));
    fake_reset("AuthenticAMD", FMS_ZEN3);
    CHECK(is_zero(q(4, 0)));
}

TEST(hidden_basic_leaves_and_ranges)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(0, 0);

    CHECK_EQ(r.a, 0xd);
    CHECK(!memcmp(&r.b, "Genu", 4) && !memcmp(&r.d, "ineI", 4) && !memcmp(&r.c, "ntel", 4));
    CHECK_EQ(q(2, 0).a & 0xff, 1);
    for (uint32_t l = 3; l <= 0xc; l++) {
        if (l == 4 || l == 7)
            continue;
        CHECK(is_zero(q(l, 0)));
    }
    CHECK(is_zero(q(0xe, 0)) && is_zero(q(0x1f, 0)) && is_zero(q(0x3fffffff, 0)));
    CHECK(is_zero(q(0x40000200, 0)) && is_zero(q(0x7fffffff, 0)));
    CHECK(is_zero(q(0xc0000000u, 0)) && is_zero(q(0xffffffffu, 0)));
}

TEST(extended_leaves_intel)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(0x80000000u, 0);

    CHECK(r.a == 0x80000008u && !r.b && !r.c && !r.d);
    r = q(0x80000001u, 0);
    CHECK(!r.a && !r.b);
    CHECK_EQ(r.c, B(0) | B(1) | B(5) | B(6) | B(7) | B(8) | B(21) | B(26)); /* no SVM */
    CHECK_EQ(r.d, B(11) | B(20) | B(22) | B(25) | B(27) | B(29) | B(30) | B(31));
    CHECK_EQ(q(0x80000002u, 0).a, 0xffffffff);   /* brand string */
    CHECK(is_zero(q(0x80000005u, 0)));
    r = q(0x80000006u, 0);
    CHECK(!r.a && !r.b && r.c == 0xffffffff && !r.d);
    CHECK(is_zero(q(0x80000007u, 0)));           /* no invariant TSC for a domU */
    r = q(0x80000008u, 0);
    CHECK_EQ(r.a, 0x302e);                       /* 46 physical, 48 linear bits */
    CHECK_EQ(r.b, B(0) | B(2) | B(12) | B(26) | B(29) | B(30));
    CHECK(!r.c && !r.d);
    CHECK(is_zero(q(0x80000009u, 0)) && is_zero(q(0x80000021u, 0)));
}

TEST(extended_leaves_amd)
{
    fake_reset("AuthenticAMD", FMS_ZEN3);
    fake_override(7, 0, 3, 0);                   /* no Intel speculation bits */
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(0x80000000u, 0);
    uint32_t common = B(0) | B(2) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(14) |
                      B(15) | B(16) | B(23) | B(24);

    CHECK_EQ(r.a, 0x80000021u);
    CHECK(!memcmp(&r.b, "Auth", 4) && !memcmp(&r.d, "enti", 4) && !memcmp(&r.c, "cAMD", 4));
    CHECK_EQ(q(1, 0).d, L1D_ALL & ~B(11));       /* no SYSENTER in long mode */
    r = q(0x80000001u, 0);
    CHECK_EQ(r.a, FMS_ZEN3);
    CHECK_EQ(r.b, 0xff00ffffu);
    CHECK_EQ(r.d, B(11) | B(20) | B(22) | B(25) | B(27) | B(29) | B(30) | B(31) | common);
    CHECK(!(r.c & B(2)));                        /* SVM */
    CHECK_EQ(q(0x80000005u, 0).a, 0xffffffff);
    r = q(0x80000008u, 0);
    CHECK_EQ(r.a, 0x302e);
    CHECK_EQ(r.b, B(0) | B(2) | B(12) | B(26) | B(29) | B(30)); /* IBPB, no IBRS family */
    CHECK_EQ(r.c, 0x0003f0ff);
    CHECK(is_zero(q(0x80000009u, 0)) && is_zero(q(0x8000000au, 0)));
    CHECK(is_zero(q(0x80000019u, 0)) && is_zero(q(0x8000001eu, 0)));
    CHECK_EQ(q(0x8000001au, 0).a, 0xffffffff);
    r = q(0x80000021u, 0);
    CHECK_EQ(r.a, B(2) | B(5) | B(6) | B(27) | B(28) | B(29));  /* never SRSO_US_NO */
    CHECK(!r.b && r.c == (B(1) | B(2)) && !r.d);
    CHECK(is_zero(q(0x80000022u, 0)));
    CHECK(is_zero(q(2, 0)) && is_zero(q(3, 0)) && is_zero(q(9, 0)));
    /* No IBRSB on the host: no SPEC_CTRL, STIBP, ARCH_CAPS. */
    CHECK_EQ(q(7, 0).d, 0);
}

TEST(dom0_kernel_leaks)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    ctx.is_dom0 = true;
    CHECK_EQ(q(0x80000007u, 0).d, B(8));          /* invariant TSC */
    CHECK_EQ(q(1, 0).c, L1C_BASE);                /* user mode: nothing more */
    CHECK_EQ(q(1, 0).d, L1D_ALL);
    ctx.kernel_mode = true;
    CHECK_EQ(q(1, 0).c, L1C_BASE | B(7));         /* EIST */
    CHECK_EQ(q(1, 0).d, L1D_ALL | B(12));         /* MTRR */
    CHECK(q(0x80000001u, 0).d & B(12));
    CHECK(!(q(1, 0).c & B(3)));                   /* MONITOR only for faulted CPUID */
    CHECK(is_zero(q(5, 0)));
    ctx.is_dom0 = false;
    CHECK_EQ(q(1, 0).c, L1C_BASE);
    CHECK_EQ(q(1, 0).d, L1D_ALL);
}

TEST(host_quirks)
{
    fake_reset("GenuineIntel", FMS_IVYBRIDGE);
    setup(fake_cpuid, false);
    CHECK_EQ(q(1, 0).c, L1C_BASE & ~B(30));       /* RDRAND */
    fake_reset("AuthenticAMD", FMS_PILEDRIVER);
    CHECK(!(q(1, 0).c & B(30)));
    fake_reset("GenuineIntel", FMS_SKYLAKE_X);
    CHECK(!(q(7, 0).b & B(24)));                  /* CLWB */
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK(q(7, 0).b & B(24));
}

TEST(intel_speculation_controls)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    fake_override(7, 0, 3, B(26));               /* IBRSB only */
    fake_override(0x80000008u, 0, 1, 0);
    setup(fake_cpuid, false);
    CHECK_EQ(q(7, 0).d, B(26) | B(27) | B(29));  /* + STIBP, + ARCH_CAPS */
    CHECK_EQ(q(0x80000008u, 0).b, B(12));        /* + IBPB */
    fake_override(7, 0, 3, 0);
    CHECK_EQ(q(7, 0).d, B(29));                  /* ARCH_CAPS on any Intel */
    CHECK_EQ(q(0x80000008u, 0).b, 0);
}

TEST(hypervisor_leaves)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(0x40000000u, 0);
    char sig[13] = { 0 };

    memcpy(sig, &r.b, 4);
    memcpy(sig + 4, &r.c, 4);
    memcpy(sig + 8, &r.d, 4);
    CHECK(!strcmp(sig, "XenVMMXenVMM"));
    CHECK_EQ(r.a, 0x40000005u);
    r = q(0x40000001u, 0);
    CHECK(r.a == (4u << 16 | 17) && !r.b && !r.c && !r.d);
    r = q(0x40000002u, 0);
    CHECK(r.a == 1 && r.b == 0x40000000u && r.c == 1 && r.d == 0);
    CHECK(is_zero(q(0x40000004u, 0)));
    r = q(0x40000005u, 0);
    CHECK(r.a == 0 && r.b == 31 && !r.c && !r.d);
    CHECK(is_zero(q(0x40000005u, 1)));
    ctx.max_page = 1ull << 40;
    CHECK_EQ(q(0x40000005u, 0).b, 44);           /* capped at 2^32 frames */
    CHECK(is_zero(q(0x40000006u, 0)) && is_zero(q(0x40000100u, 0)));
    CHECK(is_zero(q(0x400001ffu, 0)));
}

TEST(time_leaf)
{
    fake_reset("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    setup(fake_cpuid, false);
    struct cpuid_regs r = q(0x40000003u, 0);

    CHECK_EQ(r.a, 6);            /* not emulated; host TSC reliable; RDTSCP */
    CHECK(r.b == 0 && r.c == 3000000 && r.d == 1);
    r = q(0x40000003u, 1);
    CHECK(r.a == 0x56789abc && r.b == 0x1234);
    CHECK(r.c == 0xaaaaaaaau && r.d == 0xffffffffu);   /* 3 GHz: shift -1 */
    CHECK_EQ(q(0x40000003u, 2).a, 3000000);
    CHECK(is_zero(q(0x40000003u, 3)));
    ctx.tsc_khz = 1000000;
    r = q(0x40000003u, 1);
    CHECK(r.c == 0x80000000u && r.d == 1);
    ctx.is_dom0 = true;
    r = q(0x40000003u, 0);
    CHECK(r.a == 6 && r.b == 0 && r.c == 0 && r.d == 0);
    CHECK(is_zero(q(0x40000003u, 1)));
    CHECK_EQ(q(0x40000003u, 2).a, 1000000);
    fake_override(0x80000007u, 0, 3, 0);           /* no invariant TSC */
    fake_override(0x80000001u, 0, 3, 0);           /* nor RDTSCP */
    CHECK_EQ(q(0x40000003u, 0).a, 0);
}

TEST(real_host)
{
    struct cpuid_regs h1, he1, h7 = { 0 }, h0, r;

    setup(real_cpuid, false);
    real_cpuid(0, 0, &h0);
    real_cpuid(1, 0, &h1);
    real_cpuid(0x80000001u, 0, &he1);
    if (h0.a >= 7)
        real_cpuid(7, 0, &h7);
    r = q(0, 0);
    CHECK(r.b == h0.b && r.c == h0.c && r.d == h0.d);
    CHECK_EQ(r.a, h0.a < 0xd ? h0.a : 0xd);
    r = q(1, 0);
    CHECK(r.c & B(31));
    CHECK(!(r.c & (B(3) | B(5) | B(17) | B(21) | B(24) | B(26) | B(27) | B(28))));
    CHECK_EQ(r.c & ~B(31) & ~h1.c, 0);
    CHECK_EQ(r.d & ~h1.d, 0);
    CHECK_EQ(r.b >> 24, 0);
    CHECK(!(r.d & (B(1) | B(3) | B(12) | B(13))));
    r = q(0x80000001u, 0);
    CHECK(!(r.c & B(2)) && !(r.d & B(26)));      /* SVM, 1G pages */
    CHECK_EQ(r.c & ~he1.c, 0);
    r = q(7, 0);
    CHECK(!(r.b & (B(7) | B(20) | B(10))));      /* SMEP, SMAP, INVPCID */
    CHECK_EQ(r.b & ~h7.b, 0);
    CHECK(!(r.b & B(5)));                        /* AVX2 needs XSAVE */
    CHECK(is_zero(q(0xb, 0)) && is_zero(q(0xd, 0)) && is_zero(q(5, 0)));
}
