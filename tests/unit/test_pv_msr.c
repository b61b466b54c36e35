/* Tests of RDMSR/WRMSR emulation for 64-bit PV guests (as Xen 4.17 handles them). */
#include <asm/pv_msr.h>
#include "harness.h"
#include "pv_fake_host.h"

#define EFER 0xc0000080u
#define FS_BASE 0xc0000100u
#define GS_BASE 0xc0000101u
#define SHADOW_GS 0xc0000102u
#define TSC_AUX 0xc0000103u
#define ARCH_CAPS 0x10au
#define MISC_ENABLE 0x1a0u
#define SPEC_CTRL 0x48u
#define PRED_CMD 0x49u

/* The host's MSRs: those listed exist, any other faults. */
static const struct {
    uint32_t msr;
    uint64_t val;
} host_msrs[] = {
    { 0x10, 0x1122334455ull },                 /* TSC */
    { 0x17, 0x0004000000000000ull },           /* PLATFORM_ID */
    { 0x8b, 0x2b000590ull << 32 },             /* microcode revision */
    { 0x1a0, (1 << 0) | (1 << 7) | (1 << 16) | (1 << 18) }, /* MISC_ENABLE */
    { 0x1d9, 0x1 },                            /* DEBUGCTL: exists, not offered */
    { ARCH_CAPS, 0x0b } ,                      /* RDCL_NO, EIBRS, SKIP_L1DFL */
    { EFER, 0x1d01 },                          /* SCE, LME, LMA, NXE, SVME */
    { 0xc0010010, 0x007f0000 },                /* SYSCFG */
    { 0xc001001a, 0x80000000 },                /* TOP_MEM */
    { 0x802, 0 },                              /* x2APIC ID */
    { 0x40000001, 0 },                         /* an MSR of a hypervisor below */
};

static uint64_t host_caps_override = ~0ull;

static int fake_rdmsr(uint32_t msr, uint64_t *val)
{
    if (msr == ARCH_CAPS && host_caps_override != ~0ull) {
        *val = host_caps_override;
        return 0;
    }
    for (size_t i = 0; i < sizeof(host_msrs) / sizeof(host_msrs[0]); i++) {
        if (host_msrs[i].msr == msr) {
            *val = host_msrs[i].val;
            return 0;
        }
    }
    return -1;
}

static uint32_t wrmsr_seen;
static uint64_t wrmsr_val;

static int fake_wrmsr(uint32_t msr, uint64_t val)
{
    wrmsr_seen = msr;
    wrmsr_val = val;
    return 0;
}

static uint64_t hypercall_gfn;

static int fake_hypercall_page(uint64_t gfn)
{
    if (gfn > 0x1000)
        return -1;
    hypercall_gfn = gfn;
    return 0;
}

static struct pv_cpuid_ctx cctx;
static struct pv_msr_ctx ctx;
static struct pv_msr_vcpu v;

static void setup(const char *vendor, uint32_t fms)
{
    fake_reset(vendor, fms);
    memset(&cctx, 0, sizeof(cctx));
    cctx.host = fake_cpuid;
    cctx.xen_major = 4;
    cctx.xen_minor = 17;
    memset(&ctx, 0, sizeof(ctx));
    ctx.host_rdmsr = fake_rdmsr;
    ctx.host_wrmsr = fake_wrmsr;
    ctx.set_hypercall_page = fake_hypercall_page;
    ctx.cpuid = &cctx;
    memset(&v, 0, sizeof(v));
    v.kernel_mode = true;
    v.has_gp_handler = true;
    host_caps_override = ~0ull;
    wrmsr_seen = 0;
}

static void setup_amd(void)
{
    setup("AuthenticAMD", FMS_ZEN3);
    fake_override(7, 0, 3, 0); /* no Intel speculation controls */
}

static int rd(uint32_t msr, uint64_t *val)
{
    *val = 0xdeadbeef;
    return pv_rdmsr(&ctx, &v, msr, val);
}

static int wr(uint32_t msr, uint64_t val)
{
    return pv_wrmsr(&ctx, &v, msr, val);
}

TEST(user_mode_always_faults)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    v.kernel_mode = false;
    v.has_gp_handler = false;
    CHECK_EQ(rd(EFER, &val), -1);
    CHECK_EQ(rd(0x1d9, &val), -1);           /* no zero-read fallback either */
    CHECK_EQ(wr(FS_BASE, 0), -1);
}

TEST(segment_bases)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK_EQ(wr(FS_BASE, 0x00007fffffffe000ull), 0);
    CHECK_EQ(wr(GS_BASE, 0xffff880000001000ull), 0);
    CHECK_EQ(wr(SHADOW_GS, 0x1234), 0);
    CHECK_EQ(v.fs_base, 0x00007fffffffe000ull);
    CHECK_EQ(v.gs_base_kernel, 0xffff880000001000ull);
    CHECK_EQ(v.gs_base_user, 0x1234);
    CHECK(rd(GS_BASE, &val) == 0 && val == 0xffff880000001000ull);
    CHECK(rd(SHADOW_GS, &val) == 0 && val == 0x1234);
    CHECK(rd(FS_BASE, &val) == 0 && val == 0x00007fffffffe000ull);
    /* Non-canonical bases fault and change nothing. */
    CHECK_EQ(wr(FS_BASE, 0x0000800000000000ull), -1);
    CHECK_EQ(wr(GS_BASE, 0xffff7fffffffffffull), -1);
    CHECK_EQ(wr(SHADOW_GS, 1ull << 63), -1);
    CHECK_EQ(v.fs_base, 0x00007fffffffe000ull);
    CHECK_EQ(v.gs_base_user, 0x1234);
}

TEST(read_only_views)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK(rd(EFER, &val) == 0 && val == 0xd01);       /* SVME hidden */
    CHECK_EQ(wr(EFER, 0xd01), 0);                      /* writing back is fine */
    CHECK_EQ(wr(EFER, 0xc01), -1);
    CHECK(rd(0x277, &val) == 0 && val == 0x050100070406ull);
    CHECK_EQ(wr(0x277, 0x0007040600070406ull), -1);
    CHECK(rd(0x1b, &val) == 0 && val == 0xfee00900ull);
    cctx.vcpu_id = 1;
    CHECK(rd(0x1b, &val) == 0 && val == 0xfee00800ull);
    CHECK_EQ(wr(0x1b, 0xfee00800ull), -1);
    CHECK(rd(0x10, &val) == 0 && val == 0x1122334455ull);
    CHECK_EQ(wr(0x10, 0), -1);
    /* MISC_ENABLE: perf monitoring and MONITOR hidden, BTS/PEBS/xTPR off. */
    CHECK(rd(MISC_ENABLE, &val) == 0 && val == ((1 << 0) | (1 << 11) | (1 << 12) |
                                                (1 << 16) | (1 << 23)));
    CHECK_EQ(wr(MISC_ENABLE, 0), 0);                   /* silently dropped */
    CHECK(rd(0x17, &val) == 0 && val == 0x0004000000000000ull);
    CHECK_EQ(wr(0x17, 0), -1);
    CHECK(rd(0x8b, &val) == 0 && val == 0x2b000590ull << 32);
    CHECK_EQ(wr(0x8b, 0), 0);                          /* Intel's "write 0" ritual */
    CHECK_EQ(wr(0x8b, 1), -1);
    CHECK(rd(0x3a, &val) == 0 && val == 1);            /* FEATURE_CONTROL: locked */
    CHECK_EQ(wr(0x3a, 1), -1);
    CHECK(rd(0x345, &val) == 0 && val == 0);           /* PERF_CAPABILITIES */
}

TEST(speculation_controls_intel)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK(rd(SPEC_CTRL, &val) == 0 && val == 0);
    CHECK_EQ(wr(SPEC_CTRL, 0x87), 0);                  /* IBRS, STIBP, SSBD, PSFD */
    CHECK(rd(SPEC_CTRL, &val) == 0 && val == 0x87);
    CHECK_EQ(wr(SPEC_CTRL, 1 << 3), -1);               /* IPRED_DIS_U: not offered */
    CHECK_EQ(wr(SPEC_CTRL, 1 << 10), -1);              /* BHI_DIS_S: not offered */
    CHECK_EQ(wr(SPEC_CTRL, 1ull << 63), -1);
    CHECK_EQ(v.spec_ctrl, 0x87);
    CHECK_EQ(rd(PRED_CMD, &val), -1);                  /* write-only */
    CHECK_EQ(wr(PRED_CMD, 1), 0);
    CHECK(wrmsr_seen == PRED_CMD && wrmsr_val == 1);
    CHECK_EQ(wr(PRED_CMD, 2), -1);
    CHECK_EQ(wr(PRED_CMD, 0x80), -1);                  /* SBPB is AMD's */
    CHECK_EQ(wr(0x10b, 1), -1);                        /* FLUSH_CMD not offered */
}

TEST(speculation_controls_amd)
{
    uint64_t val;

    setup_amd();
    CHECK_EQ(rd(SPEC_CTRL, &val), -1);                 /* not virtualised on AMD */
    CHECK_EQ(wr(SPEC_CTRL, 0), -1);
    CHECK_EQ(wr(PRED_CMD, 1), 0);                      /* IBPB */
    CHECK_EQ(wr(PRED_CMD, 0x81), 0);                   /* + SBPB */
    CHECK_EQ(wr(0xc001011f, 0), -1);                   /* VIRT_SPEC_CTRL */
    CHECK_EQ(rd(ARCH_CAPS, &val), -1);
}

TEST(arch_capabilities)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    /* RDCL_NO and EIBRS pass; SKIP_L1DFL (a VMM's business) does not. */
    CHECK(rd(ARCH_CAPS, &val) == 0 && val == 0x3);
    CHECK_EQ(wr(ARCH_CAPS, 0x3), -1);
    /* A host with RSBA: eIBRS visible, so the guest is told RRSBA. */
    host_caps_override = 0x6 | (1ull << 62) | (1ull << 7);
    CHECK(rd(ARCH_CAPS, &val) == 0 && val == (0x2 | (1ull << 19) | (1ull << 62)));
    /* Without IBRSB there is no eIBRS: plain RSBA. */
    fake_override(7, 0, 3, B(29));
    CHECK(rd(ARCH_CAPS, &val) == 0 && val == 0x4 + (1ull << 62));
    /* ARCH_CAPS is offered to Intel guests even when the host lacks the MSR. */
    fake_override(7, 0, 3, 0);
    CHECK(rd(ARCH_CAPS, &val) == 0 && val == 0);
}

TEST(tsc_aux_and_platform)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK_EQ(wr(TSC_AUX, 0x12345678), 0);
    CHECK(rd(TSC_AUX, &val) == 0 && val == 0x12345678);
    CHECK_EQ(wr(TSC_AUX, 1ull << 32), -1);
    CHECK_EQ(v.tsc_aux, 0x12345678);
    CHECK(rd(0xce, &val) == 0 && val == 0);            /* no CPUID faulting offered */
    CHECK_EQ(wr(0x140, 1), -1);
    CHECK_EQ(wr(0x140, 0), 0);
    ctx.cpuid_faulting = true;
    CHECK(rd(0xce, &val) == 0 && val == 1ull << 31);
    CHECK_EQ(wr(0x140, 1), 0);
    CHECK(rd(0x140, &val) == 0 && val == 1);
    CHECK_EQ(wr(0x140, 2), -1);
    CHECK_EQ(wr(0xce, 0), -1);
    /* Without RDTSCP and RDPID there is no TSC_AUX. */
    fake_override(0x80000001u, 0, 3, 0);
    fake_override(7, 0, 2, 0);
    CHECK_EQ(rd(TSC_AUX, &val), -1);
    CHECK_EQ(wr(TSC_AUX, 0), -1);
}

TEST(hypercall_page_msr)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK_EQ(wr(0x40000000u, 0x5000), 0);
    CHECK_EQ(hypercall_gfn, 5);
    CHECK_EQ(wr(0x40000000u, 0x6001), -1);             /* page index must be 0 */
    CHECK_EQ(wr(0x40000000u, 0x2000000), -1);          /* refused frame */
    CHECK(rd(0x40000000u, &val) == 0 && val == 0);
    CHECK_EQ(wr(0x40000001u, 0), -1);
    CHECK_EQ(wr(0x40000200u, 0x5000), -1);
    v.has_gp_handler = false;
    CHECK_EQ(rd(0x40000001u, &val), -1);               /* never read as zero */
    ctx.set_hypercall_page = NULL;
    CHECK_EQ(wr(0x40000000u, 0x5000), -1);
}

TEST(reads_before_a_gp_handler)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK_EQ(rd(0x1d9, &val), -1);                     /* exists, not offered */
    CHECK_EQ(rd(0x802, &val), -1);
    CHECK_EQ(wr(0x1d9, 0), -1);
    v.has_gp_handler = false;
    CHECK(rd(0x1d9, &val) == 0 && val == 0);
    CHECK(rd(0x802, &val) == 0 && val == 0);
    CHECK_EQ(rd(0x1da, &val), -1);                     /* not on the host */
    CHECK_EQ(wr(0x1d9, 0), -1);                        /* writes still fault */
}

TEST(machine_check)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK(rd(0x179, &val) == 0 && val == 0x01000c02);  /* 2 banks, SER, TES, CMCI */
    CHECK_EQ(wr(0x179, 0), 0);                         /* ignored */
    CHECK(rd(0x179, &val) == 0 && val == 0x01000c02);
    CHECK(rd(0x17b, &val) == 0 && val == 0);           /* no MCG_CTL */
    CHECK_EQ(wr(0x17a, 5), 0);
    CHECK(rd(0x17a, &val) == 0 && val == 5);
    CHECK_EQ(rd(0x4d0, &val), -1);                     /* no LMCE */
    CHECK_EQ(wr(0x4d0, 0), -1);
    CHECK(rd(0x404, &val) == 0 && val == ~0ull);       /* MC1_CTL */
    CHECK_EQ(wr(0x404, 0), 0);
    CHECK(rd(0x404, &val) == 0 && val == ~0ull);
    CHECK(rd(0x401, &val) == 0 && val == 0);
    CHECK_EQ(wr(0x401, 0), 0);
    CHECK_EQ(wr(0x401, 1), -1);                        /* status can only be cleared */
    CHECK_EQ(wr(0x406, 1), -1);
    CHECK(rd(0x415, &val) == 0 && val == 0);           /* bank 5: not emulated */
    CHECK_EQ(wr(0x415, 1), 0);
    CHECK_EQ(wr(0x281, 0x4001), 0);                    /* MC1_CTL2 */
    CHECK(rd(0x281, &val) == 0 && val == 0x4001);
    CHECK(rd(0x285, &val) == 0 && val == 0);
    CHECK(rd(0x0, &val) == 0 && val == 0);             /* P5_MC_ADDR */

    setup_amd();
    CHECK(rd(0x179, &val) == 0 && val == 2);
    CHECK_EQ(wr(0x281, 0x4001), 0);
    CHECK(rd(0x281, &val) == 0 && val == 0);           /* CTL2 is Intel's */
}

TEST(vendor_specific)
{
    uint64_t val;

    setup("GenuineIntel", FMS_SAPPHIRE_RAPIDS);
    CHECK(rd(0xc1, &val) == 0 && val == 0);            /* perf counter, vPMU off */
    CHECK_EQ(wr(0x186, 0x430076), 0);
    CHECK_EQ(rd(0xc0010004, &val), -1);                /* AMD counters */
    CHECK_EQ(rd(0xc0011029, &val), -1);                /* DE_CFG */
    CHECK_EQ(rd(0xc0010015, &val), -1);                /* HWCR */
    CHECK(rd(0x198, &val) == 0 && val == 0);           /* PERF_STATUS */
    CHECK_EQ(wr(0x199, 0x1500), 0);                    /* PERF_CTL: dropped */
    CHECK_EQ(wr(0x198, 0), -1);
    CHECK(rd(0x19c, &val) == 0 && val == 0);
    CHECK_EQ(wr(0xe7, 0), 0);                          /* MPERF: dropped */
    CHECK_EQ(rd(0xe7, &val), -1);
    CHECK_EQ(wr(0x1b0, 6), 0);                         /* ENERGY_PERF_BIAS */
    CHECK(rd(0xc001001f, &val) == 0 && val == 0);      /* NB_CFG on any vendor */
    CHECK_EQ(rd(0xc0010010, &val), -1);                /* SYSCFG */
    CHECK_EQ(rd(0x122, &val), -1);                     /* TSX_CTRL */
    CHECK_EQ(wr(0x6a2, 0), -1);                        /* S_CET */
    CHECK_EQ(rd(0xda0, &val), -1);                     /* XSS */
    CHECK_EQ(rd(0x35, &val), -1);                      /* CORE_THREAD_COUNT */
    CHECK_EQ(rd(0xc0000081, &val), -1);                /* STAR: hypercalls do that */

    setup_amd();
    CHECK(rd(0xc0010004, &val) == 0 && val == 0);
    CHECK_EQ(rd(0xc1, &val), -1);
    CHECK(rd(0xc0011029, &val) == 0 && val == 2);      /* LFENCE serialising */
    CHECK_EQ(wr(0xc0011029, 0), 0);
    CHECK(rd(0xc0010015, &val) == 0 && val == 0);
    CHECK_EQ(wr(0xc0010015, 1), 0);
    CHECK(rd(0xc0010064, &val) == 0 && val == 0);      /* P-state 0 */
    CHECK_EQ(wr(0xc0010062, 1), 0);
    CHECK_EQ(rd(0x3a, &val), -1);                      /* FEATURE_CONTROL */
    CHECK_EQ(rd(0x198, &val), -1);
    CHECK_EQ(rd(0x17, &val), -1);
    CHECK_EQ(wr(0x8b, 0), -1);
    CHECK_EQ(rd(0xc0010058, &val), -1);                /* MMIO_CONF_BASE: Fam10h-16h */
    CHECK_EQ(wr(0xc0011019, 0xfff), 0);                /* DR1 address mask */
    CHECK(rd(0xc0011019, &val) == 0 && val == 0xfff);
    CHECK_EQ(wr(0xc0011027, 1ull << 32), -1);
}

TEST(amd_memory_map_for_dom0_only)
{
    uint64_t val;

    setup_amd();
    CHECK_EQ(rd(0xc0010010, &val), -1);
    CHECK_EQ(rd(0xc001001a, &val), -1);
    ctx.is_dom0 = true;
    CHECK(rd(0xc0010010, &val) == 0 && val == 0x00740000);   /* SYSCFG, masked */
    CHECK(rd(0xc001001a, &val) == 0 && val == 0x80000000);
    CHECK_EQ(rd(0xc001001d, &val), -1);                      /* not on this host */
    CHECK_EQ(wr(0xc0010010, 0), -1);

    setup("AuthenticAMD", FMS_PILEDRIVER);
    CHECK(rd(0xc0010058, &val) == 0 && val == 0);
    CHECK_EQ(wr(0xc0010058, 0xe0000021), 0);
}
