/*
 * CPUID for 64-bit PV guests, answered as Xen 4.17 answers with its default PV policy.
 *
 * Xen derives a PV guest's view from the host in three steps, which this file follows:
 * the host's features are masked to the ones Xen offers PV guests by default (the 'A'
 * annotation in Xen's cpufeatureset.h), a few are adjusted (hypervisor bit, speculation
 * controls, host quirks), and features whose prerequisite is gone are dropped as well
 * (the dependency closure). Leaves are then rebuilt around the result: topology, power
 * and cache details are hidden, max-leaf values are clamped, and the vCPU's state fills
 * in the dynamic bits. Out-of-range leaves read as zeros, as Xen does.
 *
 * Nothing is cached: each call asks the host again (a few dozen CPUID instructions), so
 * the answer can never go stale. Callers that mind the cost can cache per domain.
 */
#include <asm/pv_cpuid.h>

#define BASIC_LAST 0xdu          /* Xen keeps basic leaves 0..0xd */
#define EXTD_LAST_AMD 0x21u      /* AMD/Hygon extended leaves up to 0x80000021 */
#define EXTD_LAST_OTHER 0x8u     /* everyone else up to 0x80000008 */
#define FEAT_LAST_SUBLEAF 2u     /* leaf 7 subleaves 0..2 */
#define CACHE_SUBLEAVES 6u       /* leaf 4 subleaves Xen keeps */
#define XSTATE_SUBLEAVES 63u     /* leaf 0xd subleaves 0..62 */
#define HV_LEAVES 5u             /* 0x40000000..0x40000005 (XEN_CPUID_MAX_NUM_LEAVES) */

#define XSTATE_AREA_MIN 576u     /* legacy area + header */
#define XSTATE_FP_SSE 0x3ull
#define XSTATE_YMM (1ull << 2)
#define XSTATE_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */

/* Leaf 1 edx bits AMD mirrors into 0x80000001 edx (FPU..FXSR, minus the reserved ones). */
#define COMMON_1D_MASK 0x0183f3ffu

/*
 * What a PV guest sees by default, when the host has it: Xen 4.17's 'A' features.
 * Everything else ('S'/'H' HVM-only, lower-case opt-in, unannotated) is hidden.
 */
static const uint16_t pv_default_features[] = {
    /* 0x1.edx. Not: VME, PSE, PSE36, PGE, MTRR (paging/MTRRs are Xen's), DS, TM1, PBE. */
    XF_FPU, XF_DE, XF_TSC, XF_MSR, XF_PAE, XF_MCE, XF_CX8, XF_APIC, XF_SEP, XF_MCA,
    XF_CMOV, XF_PAT, XF_CLFLUSH, XF_ACPI, XF_MMX, XF_FXSR, XF_SSE, XF_SSE2, XF_SS, XF_HTT,
    /* 0x1.ecx. Not: MONITOR, VMX, SMX, EIST, PCID, X2APIC, TSC_DEADLINE, DS/perf bits. */
    XF_SSE3, XF_PCLMULQDQ, XF_SSSE3, XF_FMA, XF_CX16, XF_SSE4_1, XF_SSE4_2, XF_MOVBE,
    XF_POPCNT, XF_AESNI, XF_XSAVE, XF_AVX, XF_F16C, XF_RDRAND, XF_HYPERVISOR,
    /* 0x80000001.edx. Not: PAGE1GB (no superpages in PV page tables). */
    XF_SYSCALL, XF_NX, XF_MMXEXT, XF_FFXSR, XF_RDTSCP, XF_LM, XF_3DNOWEXT, XF_3DNOW,
    /* 0x80000001.ecx. Not: SVM, EXTAPIC, CR8_LEGACY, OSVW, IBS, SKINIT, WDT, LWP... */
    XF_LAHF_LM, XF_CMP_LEGACY, XF_ABM, XF_SSE4A, XF_MISALIGNSSE, XF_3DNOWPREFETCH, XF_XOP,
    XF_FMA4, XF_TBM, XF_DBEXT,
    /* 0xd:1.eax. Not: XSAVES (no supervisor states for guests). */
    XF_XSAVEOPT, XF_XSAVEC, XF_XGETBV1,
    /* 0x7:0.ebx. Not: TSC_ADJUST, SGX, HLE, SMEP, SMAP, INVPCID, MPX, PQM/PQE, PT. */
    XF_FSGSBASE, XF_BMI1, XF_AVX2, XF_BMI2, XF_ERMS, XF_RTM, XF_AVX512F, XF_AVX512DQ,
    XF_RDSEED, XF_ADX, XF_AVX512_IFMA, XF_CLFLUSHOPT, XF_CLWB, XF_AVX512PF, XF_AVX512ER,
    XF_AVX512CD, XF_SHA, XF_AVX512BW, XF_AVX512VL,
    /* 0x7:0.ecx. Not: UMIP, PKU/OSPKE, CET, MOVDIRI/MOVDIR64B (opt-in), ENQCMD. */
    XF_PREFETCHWT1, XF_AVX512_VBMI, XF_AVX512_VBMI2, XF_GFNI, XF_VAES, XF_VPCLMULQDQ,
    XF_AVX512_VNNI, XF_AVX512_BITALG, XF_AVX512_VPOPCNTDQ, XF_RDPID, XF_CLDEMOTE,
    /* 0x80000007.edx: nothing (invariant TSC is opt-in; dom0 gets it below). */
    /* 0x80000008.ebx. Not: WBNOINVD, AMD's IBRS/STIBP/SSBD family, VIRT_SSBD, PPIN. */
    XF_CLZERO, XF_RSTR_FP_ERR_PTRS, XF_IBPB, XF_SSB_NO, XF_BTC_NO, XF_IBPB_RET,
    /* 0x7:0.edx. Not: VP2INTERSECT/TSXLDTRK (opt-in), SRBDS_CTRL, L1D_FLUSH, CET_IBT. */
    XF_AVX512_4VNNIW, XF_AVX512_4FMAPS, XF_FSRM, XF_MD_CLEAR, XF_SERIALIZE, XF_IBRSB,
    XF_STIBP, XF_ARCH_CAPS, XF_SSBD,
    /* 0x7:1.eax */
    XF_AVX_VNNI, XF_AVX512_BF16, XF_FZRM, XF_FSRS, XF_FSRCS,
    /* 0x80000021.eax. Not: AUTO_IBRS, SRSO_MSR_FIX. */
    XF_LFENCE_DISPATCH, XF_VERW_CLEAR, XF_NSCB, XF_SBPB, XF_IBPB_BRTYPE, XF_SRSO_NO,
    XF_SRSO_US_NO,
    /* 0x7:2.edx. Not: IPRED_CTRL, RRSBA_CTRL, BHI_CTRL. */
    XF_INTEL_PSFD, XF_MCDT_NO,
    /* MSR_ARCH_CAPABILITIES: the "not vulnerable" and "VERW clears" enumerations. */
    XF_RDCL_NO, XF_EIBRS, XF_INTEL_SSB_NO, XF_MDS_NO, XF_IF_PSCHANGE_MC_NO, XF_TAA_NO,
    XF_SBDR_SSDP_NO, XF_FBSDP_NO, XF_PSDP_NO, XF_FB_CLEAR, XF_BHI_NO, XF_PBRSB_NO,
    XF_GDS_NO, XF_RFDS_NO, XF_RFDS_CLEAR, XF_ITS_NO,
    /* 0x80000021.ecx */
    XF_TSA_SQ_NO, XF_TSA_L1_NO,
};

#define FEAT_END 0xffffu
#define DEPS(...) ((const uint16_t[]){ __VA_ARGS__, FEAT_END })

/*
 * Feature -> features that make no sense without it (Xen's dependency graph, limited to
 * the dependents a PV guest could otherwise see). MSR_ARCH_CAPABILITIES as a whole
 * depends on ARCH_CAPS; that one is handled in sanitise().
 */
static const struct feature_dep {
    uint16_t feature;
    const uint16_t *dependents;
} feature_deps[] = {
    { XF_FPU, DEPS(XF_MMX, XF_RSTR_FP_ERR_PTRS) },
    { XF_PAE, DEPS(XF_LM, XF_NX) },
    { XF_TSC, DEPS(XF_RDTSCP, XF_ITSC) },
    { XF_MMX, DEPS(XF_MMXEXT, XF_3DNOW) },
    { XF_FXSR, DEPS(XF_FFXSR, XF_SSE) },
    { XF_SSE, DEPS(XF_SSE2, XF_MISALIGNSSE) },
    { XF_SSE2, DEPS(XF_SSE3, XF_LM, XF_AESNI, XF_PCLMULQDQ, XF_SHA, XF_GFNI) },
    { XF_SSE3, DEPS(XF_SSSE3, XF_SSE4A) },
    { XF_SSSE3, DEPS(XF_SSE4_1) },
    { XF_SSE4_1, DEPS(XF_SSE4_2) },
    { XF_XSAVE, DEPS(XF_XSAVEOPT, XF_XSAVEC, XF_XGETBV1, XF_XSAVES, XF_AVX, XF_MPX,
                     XF_PKU) },
    { XF_AVX, DEPS(XF_FMA, XF_FMA4, XF_F16C, XF_AVX2, XF_XOP) },
    { XF_LM, DEPS(XF_CX16, XF_PCID, XF_LAHF_LM, XF_PAGE1GB, XF_PKU) },
    { XF_3DNOW, DEPS(XF_3DNOWEXT) },
    { XF_AVX2, DEPS(XF_AVX512F, XF_VAES, XF_VPCLMULQDQ, XF_AVX_VNNI) },
    { XF_AVX512F, DEPS(XF_AVX512DQ, XF_AVX512_IFMA, XF_AVX512PF, XF_AVX512ER,
                       XF_AVX512CD, XF_AVX512BW, XF_AVX512VL, XF_AVX512_4VNNIW,
                       XF_AVX512_4FMAPS, XF_AVX512_VNNI, XF_AVX512_VPOPCNTDQ) },
    { XF_AVX512BW, DEPS(XF_AVX512_VBMI, XF_AVX512_VBMI2, XF_AVX512_BITALG,
                        XF_AVX512_BF16) },
    { XF_PCLMULQDQ, DEPS(XF_VPCLMULQDQ) },
    { XF_AESNI, DEPS(XF_VAES) },
    { XF_IBRSB, DEPS(XF_STIBP, XF_SSBD, XF_INTEL_PSFD, XF_EIBRS, XF_IPRED_CTRL,
                     XF_RRSBA_CTRL, XF_BHI_CTRL) },
    { XF_IBRS, DEPS(XF_AMD_SSBD, XF_PSFD) },
    { XF_IBPB, DEPS(XF_IBPB_RET, XF_SBPB, XF_IBPB_BRTYPE) },
    { XF_EIBRS, DEPS(XF_RRSBA) },
};

static inline void fs_set(uint32_t *fs, unsigned int f)
{
    fs[f / 32] |= 1u << (f % 32);
}

static inline void fs_clear(uint32_t *fs, unsigned int f)
{
    fs[f / 32] &= ~(1u << (f % 32));
}

/* Drop every feature whose prerequisite is missing, until nothing changes. */
static void sanitise(uint32_t *fs)
{
    bool changed = true;

    while (changed) {
        changed = false;
        for (size_t i = 0; i < ARRAY_SIZE(feature_deps); i++) {
            const struct feature_dep *d = &feature_deps[i];

            if (fs_test(fs, d->feature))
                continue;
            for (const uint16_t *p = d->dependents; *p != FEAT_END; p++) {
                if (fs_test(fs, *p)) {
                    fs_clear(fs, *p);
                    changed = true;
                }
            }
        }
    }
    if (!fs_test(fs, XF_ARCH_CAPS))
        fs[FS_ARCH_LO] = fs[FS_ARCH_HI] = 0;
}

/* The host as Xen's host policy sees it: clamped max leaves, Xen's own feature quirks. */
struct host {
    const struct pv_cpuid_ctx *ctx;
    struct pv_cpu_ident id;
    uint32_t max_basic;   /* highest basic leaf, at most BASIC_LAST */
    uint32_t max_extd;    /* highest extended leaf & 0xffff, at most EXTD_LAST_AMD */
    uint32_t max_feat;    /* highest leaf 7 subleaf, at most FEAT_LAST_SUBLEAF */
    uint32_t fs[FS_NR];
};

static bool host_leaf(const struct host *h, uint32_t leaf, uint32_t subleaf,
                      struct cpuid_regs *r)
{
    bool present = leaf < 0x80000000u ? leaf <= h->max_basic
                                      : (leaf & 0xffffu) <= h->max_extd;

    *r = (struct cpuid_regs){ 0 };
    if (present)
        h->ctx->host(leaf, subleaf, r);
    return present;
}

static enum x86_vendor lookup_vendor(const struct cpuid_regs *l0)
{
    static const struct {
        char name[13];
        enum x86_vendor vendor;
    } vendors[] = {
        { "GenuineIntel", VENDOR_INTEL }, { "AuthenticAMD", VENDOR_AMD },
        { "HygonGenuine", VENDOR_HYGON }, { "CentaurHauls", VENDOR_CENTAUR },
        { "  Shanghai  ", VENDOR_SHANGHAI },
    };
    const uint32_t regs[3] = { l0->b, l0->d, l0->c };

    for (size_t i = 0; i < ARRAY_SIZE(vendors); i++) {
        const char *n = vendors[i].name;
        bool match = true;

        for (unsigned int w = 0; w < 3; w++) {
            uint32_t v = (uint32_t)(uint8_t)n[4 * w] | (uint32_t)(uint8_t)n[4 * w + 1] << 8 |
                         (uint32_t)(uint8_t)n[4 * w + 2] << 16 |
                         (uint32_t)(uint8_t)n[4 * w + 3] << 24;
            match = match && v == regs[w];
        }
        if (match)
            return vendors[i].vendor;
    }
    return VENDOR_UNKNOWN;
}

static void ident_from(enum x86_vendor vendor, uint32_t eax, struct pv_cpu_ident *id)
{
    id->vendor = vendor;
    id->family = (eax >> 8) & 0xf;
    id->model = (eax >> 4) & 0xf;
    if (id->family == 0xf)
        id->family += (eax >> 20) & 0xff;
    if (id->family >= 6)
        id->model |= ((eax >> 16) & 0xf) << 4;
}

/* Xen turns these host features off for itself, so no guest ever sees them. */
static void host_quirks(struct host *h)
{
    const struct pv_cpu_ident *id = &h->id;

    /* SYSENTER does not work in long mode on AMD (and unknown vendors). */
    if (id->vendor != VENDOR_INTEL && id->vendor != VENDOR_CENTAUR &&
        id->vendor != VENDOR_SHANGHAI)
        fs_clear(h->fs, XF_SEP);
    if (id->vendor == VENDOR_AMD) {
        /* K8 before revision D advertises LAHF_LM without supporting it. */
        if (id->family == 0xf && id->model < 0x14)
            fs_clear(h->fs, XF_LAHF_LM);
        /* Fam15h/16h RDRAND may stop working after S3 (erratum 665 class). */
        if (id->family == 0x15 || id->family == 0x16)
            fs_clear(h->fs, XF_RDRAND);
    }
    /* Skylake-X: CLWB is slow under the GDS microcode; Xen hides it. */
    if (id->vendor == VENDOR_INTEL && id->family == 6 && id->model == 0x55)
        fs_clear(h->fs, XF_CLWB);
}

static void host_init(struct host *h, const struct pv_cpuid_ctx *ctx)
{
    struct cpuid_regs l0, r;
    uint32_t *fs = h->fs;

    h->ctx = ctx;
    ctx->host(0, 0, &l0);
    h->max_basic = MIN(l0.a, BASIC_LAST);
    ctx->host(0x80000000u, 0, &r);
    h->max_extd = (r.a >> 16) == 0x8000 ? MIN(r.a & 0xffffu, EXTD_LAST_AMD) : 0;

    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] = 0;

    host_leaf(h, 1, 0, &r);
    ident_from(lookup_vendor(&l0), r.a, &h->id);
    fs[FS_1D] = r.d;
    fs[FS_1C] = r.c;
    host_leaf(h, 7, 0, &r);
    h->max_feat = MIN(r.a, FEAT_LAST_SUBLEAF);
    fs[FS_7B0] = r.b;
    fs[FS_7C0] = r.c;
    fs[FS_7D0] = r.d;
    if (h->max_feat >= 1) {
        host_leaf(h, 7, 1, &r);
        fs[FS_7A1] = r.a;
        fs[FS_7B1] = r.b;
        fs[FS_7C1] = r.c;
        fs[FS_7D1] = r.d;
    }
    if (h->max_feat >= 2) {
        host_leaf(h, 7, 2, &r);
        fs[FS_7D2] = r.d;
    }
    host_leaf(h, 0xd, 1, &r);
    fs[FS_DA1] = r.a;
    host_leaf(h, 0x80000001u, 0, &r);
    fs[FS_E1D] = r.d;
    fs[FS_E1C] = r.c;
    host_leaf(h, 0x80000007u, 0, &r);
    fs[FS_E7D] = r.d;
    host_leaf(h, 0x80000008u, 0, &r);
    fs[FS_E8B] = r.b;
    host_leaf(h, 0x80000021u, 0, &r);
    fs[FS_E21A] = r.a;
    fs[FS_E21C] = r.c;
    host_quirks(h);
}

static bool is_amd_like(const struct host *h)
{
    return h->id.vendor == VENDOR_AMD || h->id.vendor == VENDOR_HYGON;
}

static void guest_featureset(const struct host *h, uint64_t host_arch_caps, uint32_t *fs)
{
    const struct pv_cpuid_ctx *ctx = h->ctx;
    uint32_t mask[FS_NR] = { 0 };
    uint32_t hs[FS_NR];

    for (unsigned int i = 0; i < FS_NR; i++)
        hs[i] = h->fs[i];
    if (fs_test(hs, XF_ARCH_CAPS)) {
        hs[FS_ARCH_LO] = (uint32_t)host_arch_caps;
        hs[FS_ARCH_HI] = (uint32_t)(host_arch_caps >> 32);
    }
    for (size_t i = 0; i < ARRAY_SIZE(pv_default_features); i++)
        fs_set(mask, pv_default_features[i]);
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] = hs[i] & mask[i];

    fs_set(fs, XF_HYPERVISOR);
    /*
     * MSR_SPEC_CTRL is virtualised for PV guests only on hosts with Intel's IBRSB, so
     * AMD's IBRS family stays hidden. With IBRSB, STIBP is always offered (a no-op
     * without SMT) and IBPB is offered through AMD's bit as well.
     */
    if (fs_test(hs, XF_IBRSB)) {
        fs_set(fs, XF_STIBP);
        fs_set(fs, XF_IBPB);
    }
    /* MSR_ARCH_CAPABILITIES is pure enumeration: every Intel guest gets to read it. */
    if (h->id.vendor == VENDOR_INTEL)
        fs_set(fs, XF_ARCH_CAPS);
    /* IvyBridge RDRAND leaks across cores (SRBDS) and will get no microcode fix. */
    if (h->id.vendor == VENDOR_INTEL && h->id.family == 6 && h->id.model == 0x3a)
        fs_clear(fs, XF_RDRAND);
    /*
     * SRSO_US_NO means something to a PV kernel only while BP_SPEC_REDUCE is active,
     * which Xen sets on hosts with SRSO_MSR_FIX; enso does not, so it is never shown.
     */
    fs_clear(fs, XF_SRSO_US_NO);
    if (!ctx->xsave_available || h->max_basic < 0xd)
        fs_clear(fs, XF_XSAVE);
    /* dom0 never migrates, so it may rely on an invariant TSC. */
    if (ctx->is_dom0 && fs_test(hs, XF_ITSC))
        fs_set(fs, XF_ITSC);

    sanitise(fs);

    /* Retpoline safety follows the host; with eIBRS visible it is the restricted form. */
    if (fs_test(fs, XF_ARCH_CAPS) && (fs_test(hs, XF_RSBA) || fs_test(hs, XF_RRSBA)))
        fs_set(fs, fs_test(fs, XF_EIBRS) ? XF_RRSBA : XF_RSBA);
    /* FPU pointer behaviour is the hardware's, whatever the policy says. */
    fs_clear(fs, XF_FDP_EXCP_ONLY);
    fs_clear(fs, XF_NO_FPU_SEL);
    fs[FS_7B0] |= hs[FS_7B0] & ((1u << (XF_FDP_EXCP_ONLY % 32)) |
                                (1u << (XF_NO_FPU_SEL % 32)));
}

void pv_cpuid_ident(const struct pv_cpuid_ctx *ctx, struct pv_cpu_ident *id)
{
    struct cpuid_regs l0, l1 = { 0 };

    ctx->host(0, 0, &l0);
    if (l0.a >= 1)
        ctx->host(1, 0, &l1);
    ident_from(lookup_vendor(&l0), l1.a, id);
}

void pv_cpuid_featureset(const struct pv_cpuid_ctx *ctx, uint64_t host_arch_caps,
                         uint32_t fs[FS_NR])
{
    struct host h;

    host_init(&h, ctx);
    guest_featureset(&h, host_arch_caps, fs);
}

/* --- Basic leaves --- */

static void leaf1(const struct host *h, const uint32_t *fs, struct cpuid_regs *out)
{
    const struct pv_cpuid_ctx *ctx = h->ctx;
    struct cpuid_regs r;

    host_leaf(h, 1, 0, &r);
    out->a = r.a & 0x0fff0fffu;   /* processor type and reserved bits cleared */
    out->b = r.b & 0x00ffffffu;   /* initial APIC ID reads 0: topology is not real */
    out->c = fs[FS_1C];
    out->d = fs[FS_1D];
    /*
     * OSXSAVE mirrors CR4. Xen also shows its own CR4.OSXSAVE to the kernel's
     * forced-emulation CPUID, a quirk PV Linux came to depend on.
     */
    if (fs_test(fs, XF_XSAVE) && (ctx->guest_cr4_osxsave || ctx->kernel_mode))
        out->c |= 1u << (XF_OSXSAVE % 32);
    /* Old dom0 kernels key P-state upload on EIST (a leak Xen keeps for dom0). */
    if (ctx->is_dom0 && ctx->kernel_mode && fs_test(h->fs, XF_EIST))
        out->c |= 1u << (XF_EIST % 32);
}

/* XenoLinux dom0 reads MTRR as "the memtype platform hypercalls exist". */
static void dom0_mtrr_leak(const struct host *h, struct cpuid_regs *out)
{
    if (h->ctx->is_dom0 && h->ctx->kernel_mode && fs_test(h->fs, XF_MTRR))
        out->d |= 1u << (XF_MTRR % 32);
}

/* Deterministic cache parameters: real caches, with the reserved bits cleared. */
static void leaf4(const struct host *h, uint32_t subleaf, struct cpuid_regs *out)
{
    struct cpuid_regs r;

    if (is_amd_like(h) || subleaf >= CACHE_SUBLEAVES)
        return;
    /* The first subleaf without a data/instruction/unified cache ends the list. */
    for (uint32_t i = 0; i <= subleaf; i++) {
        uint32_t type;

        host_leaf(h, 4, i, &r);
        type = r.a & 0x1f;
        if (type < 1 || type > 3)
            return;
    }
    out->a = r.a & 0xffffc3ffu;
    out->b = r.b;
    out->c = r.c;
    out->d = r.d & 0x7;
}

static void leaf7(const struct host *h, const uint32_t *fs, uint32_t subleaf,
                  struct cpuid_regs *out)
{
    struct cpuid_regs r;

    if (subleaf > h->max_feat)
        return;
    switch (subleaf) {
    case 0:
        *out = (struct cpuid_regs){ h->max_feat, fs[FS_7B0], fs[FS_7C0], fs[FS_7D0] };
        break;
    case 1:
        *out = (struct cpuid_regs){ fs[FS_7A1], fs[FS_7B1], fs[FS_7C1], fs[FS_7D1] };
        break;
    default:
        /* Registers without feature words are the host's (reserved, zero today). */
        host_leaf(h, 7, 2, &r);
        *out = (struct cpuid_regs){ r.a, r.b, r.c, fs[FS_7D2] };
        break;
    }
}

static uint64_t guest_xstates(const uint32_t *fs)
{
    uint64_t x = XSTATE_FP_SSE;

    if (fs_test(fs, XF_AVX))
        x |= XSTATE_YMM;
    if (fs_test(fs, XF_AVX512F))
        x |= XSTATE_AVX512;
    return x;
}

/* XSAVE: only the components of visible features; sizes and offsets are the host's. */
static void leaf_xstate(const struct host *h, const uint32_t *fs, uint32_t subleaf,
                        struct cpuid_regs *out)
{
    uint64_t xstates = guest_xstates(fs);
    struct cpuid_regs r;

    if (!fs_test(fs, XF_XSAVE) || subleaf >= XSTATE_SUBLEAVES)
        return;
    if (subleaf == 0) {
        uint32_t size = XSTATE_AREA_MIN;

        for (unsigned int i = 2; i < XSTATE_SUBLEAVES; i++) {
            if (!(xstates & (1ull << i)))
                continue;
            host_leaf(h, 0xd, i, &r);
            size = MAX(size, r.a + r.b);
        }
        host_leaf(h, 0xd, 0, &r);
        /* ebx follows the XCR0 in force, so it comes from the hardware live. */
        *out = (struct cpuid_regs){ (uint32_t)xstates, r.b, size, (uint32_t)(xstates >> 32) };
    } else if (subleaf == 1) {
        out->a = fs[FS_DA1];
        if (fs_test(fs, XF_XSAVEC)) {
            host_leaf(h, 0xd, 1, &r);
            out->b = r.b;
        }
    } else if (xstates & (1ull << subleaf)) {
        host_leaf(h, 0xd, subleaf, &r);
        out->a = r.a;
        out->b = r.b;
        out->c = r.c & 0x2;   /* alignment flag; no supervisor (XSS) components */
    }
}

static void basic_leaf(const struct host *h, const uint32_t *fs, uint32_t leaf,
                       uint32_t subleaf, struct cpuid_regs *out)
{
    struct cpuid_regs r;
    enum x86_vendor vendor = h->id.vendor;

    switch (leaf) {
    case 0:
        host_leaf(h, 0, 0, &r);
        *out = (struct cpuid_regs){ h->max_basic, r.b, r.c, r.d };
        break;
    case 1:
        leaf1(h, fs, out);
        dom0_mtrr_leak(h, out);
        break;
    case 2:
        if (is_amd_like(h))
            break;
        host_leaf(h, 2, 0, out);
        if (vendor == VENDOR_INTEL)
            out->a = (out->a & ~0xffu) | 1;   /* one query is enough */
        break;
    case 3:   /* processor serial number: always hidden */
    case 9:   /* direct cache access */
        if (vendor != VENDOR_INTEL && !is_amd_like(h))
            host_leaf(h, leaf, 0, out);
        break;
    case 4:
        leaf4(h, subleaf, out);
        break;
    case 7:
        leaf7(h, fs, subleaf, out);
        break;
    case 0xd:
        leaf_xstate(h, fs, subleaf, out);
        break;
    default:
        /* 5 MONITOR, 6 power, 8, 0xa PMU (vPMU off), 0xb topology, 0xc: hidden. */
        break;
    }
}

/* --- Extended leaves --- */

static void extd_leaf(const struct host *h, const uint32_t *fs, uint32_t leaf,
                      uint32_t max, struct cpuid_regs *out)
{
    struct cpuid_regs r;
    enum x86_vendor vendor = h->id.vendor;
    bool amd = is_amd_like(h), intel = vendor == VENDOR_INTEL;

    switch (leaf & 0xffffu) {
    case 0x0:
        host_leaf(h, leaf, 0, &r);
        if (amd)
            host_leaf(h, 0, 0, &r);   /* AMD repeats the vendor string */
        *out = (struct cpuid_regs){ 0x80000000u | max, r.b, r.c, r.d };
        if (intel)
            out->b = out->c = out->d = 0;
        break;
    case 0x1:
        host_leaf(h, leaf, 0, &r);
        *out = (struct cpuid_regs){ r.a, r.b, fs[FS_E1C], fs[FS_E1D] };
        if (intel) {
            out->a = out->b = 0;
        } else if (amd) {
            host_leaf(h, 1, 0, &r);
            out->a = r.a & 0x0fff0fffu;
            out->b &= 0xff00ffffu;   /* core/node ID bits are not real */
            out->d |= fs[FS_1D] & COMMON_1D_MASK;
        }
        dom0_mtrr_leak(h, out);
        break;
    case 0x2: case 0x3: case 0x4:   /* brand string */
    case 0x1a:                      /* AMD performance hints */
        host_leaf(h, leaf, 0, out);
        break;
    case 0x5:   /* L1 cache and TLB */
        if (!intel)
            host_leaf(h, leaf, 0, out);
        break;
    case 0x6:   /* L2/L3 cache and TLB; Intel only defines ecx */
        host_leaf(h, leaf, 0, out);
        if (intel)
            out->a = out->b = out->d = 0;
        break;
    case 0x7:
        out->d = fs[FS_E7D];
        break;
    case 0x8:
        host_leaf(h, leaf, 0, &r);
        /* Physical address bits (at least 36), 48 linear bits; guest bits hidden. */
        out->a = MAX(r.a & 0xffu, 36u) | 48u << 8;
        if (!intel && !amd)
            out->a |= r.a & 0xffff0000u;
        out->b = fs[FS_E8B];
        out->c = intel ? 0 : amd ? r.c & 0x0003f0ffu : r.c;
        break;
    case 0x21:
        *out = (struct cpuid_regs){ fs[FS_E21A], 0, fs[FS_E21C], 0 };
        break;
    default:
        /* 9, 0xa SVM, 0xb-0x18, 0x19 1G TLBs (no superpages), 0x1b-0x20: hidden. */
        break;
    }
}

/* --- Hypervisor leaves 0x40000000.. --- */

/* Xen's ticks->ns scale: ns = ((ticks << shift) * mul_frac) >> 32. */
static void time_scale(uint64_t ticks_per_sec, uint32_t *mul_frac, int *shift)
{
    uint64_t tps64 = ticks_per_sec;
    uint32_t tps32;
    int s = 0;

    while (tps64 > 2000000000ull) {
        tps64 >>= 1;
        s--;
    }
    tps32 = (uint32_t)tps64;
    while (tps32 <= 1000000000u) {
        tps32 <<= 1;
        s++;
    }
    *mul_frac = (uint32_t)((1000000000ull << 32) / tps32);
    *shift = s;
}

static unsigned int fls64(uint64_t x)
{
    return x ? 64 - (unsigned int)__builtin_clzll(x) : 0;
}

static void time_leaf(const struct pv_cpuid_ctx *ctx, uint32_t subleaf,
                      struct cpuid_regs *out)
{
    struct host h;
    bool itsc, rdtscp;
    uint32_t mul = 0;
    int shift = 0;

    /* dom0 keeps the native TSC and never gets a TSC frequency or offset. */
    uint32_t khz = ctx->is_dom0 ? 0 : ctx->tsc_khz;

    host_init(&h, ctx);
    /* Xen's "TSC reliable" comes from the invariant-TSC bit (not on AMD Fam11h). */
    itsc = fs_test(h.fs, XF_ITSC) &&
           !((h.id.vendor == VENDOR_AMD) && h.id.family == 0x11);
    rdtscp = fs_test(h.fs, XF_RDTSCP);
    switch (subleaf) {
    case 0:
        /* enso never emulates the TSC; tsc_mode 0 is "default". */
        out->a = (uint32_t)itsc << 1 | (uint32_t)rdtscp << 2;
        out->b = 0;
        out->c = khz;
        out->d = ctx->is_dom0 ? 0 : 1;   /* a domU's creation counts as incarnation 1 */
        break;
    case 1:
        if (ctx->is_dom0 || !khz)
            break;
        time_scale((uint64_t)khz * 1000, &mul, &shift);
        out->a = (uint32_t)ctx->vtsc_offset;
        out->b = (uint32_t)(ctx->vtsc_offset >> 32);
        out->c = mul;
        out->d = (uint32_t)(int32_t)(int8_t)shift;
        break;
    case 2:
        out->a = ctx->tsc_khz;
        break;
    }
}

/* Bits needed to address every frame enso may give out (memory hotplug included). */
static uint32_t machine_address_bits(const struct pv_cpuid_ctx *ctx)
{
    struct cpuid_regs r = { 0 }, e0;
    unsigned int paddr_bits = 36;
    uint64_t frames = ctx->max_page ? ctx->max_page : 1;

    ctx->host(0x80000000u, 0, &e0);
    if (e0.a >= 0x80000008u && e0.a < 0x80010000u) {
        ctx->host(0x80000008u, 0, &r);
        paddr_bits = r.a & 0xff;
    }
    frames = MIN(frames, 1ull << 32);
    if (paddr_bits > 12 && paddr_bits < 64)
        frames = MIN(frames, 1ull << (paddr_bits - 12));
    return fls64(frames - 1) + 12;
}

static void hypervisor_leaf(const struct pv_cpuid_ctx *ctx, uint32_t leaf,
                            uint32_t subleaf, struct cpuid_regs *out)
{
    switch (leaf - 0x40000000u) {
    case 0:
        /* "XenVMMXenVMM" */
        *out = (struct cpuid_regs){ 0x40000000u + HV_LEAVES, 0x566e6558u, 0x65584d4du,
                                    0x4d4d566eu };
        break;
    case 1:
        out->a = ctx->xen_major << 16 | (ctx->xen_minor & 0xffff);
        break;
    case 2:
        out->a = 1;               /* hypercall pages */
        out->b = 0x40000000u;     /* MSR that installs the hypercall page */
        out->c = 1u << 0;         /* MMU_PT_UPDATE_PRESERVE_AD */
        break;
    case 3:
        time_leaf(ctx, subleaf, out);
        break;
    case 4:
        break;                    /* HVM-only leaf */
    case 5:
        if (subleaf == 0)
            out->b = machine_address_bits(ctx);
        break;
    default:
        break;                    /* beyond the advertised maximum */
    }
}

void pv_cpuid(const struct pv_cpuid_ctx *ctx, uint32_t leaf, uint32_t subleaf,
              struct cpuid_regs *out)
{
    struct host h;
    uint32_t fs[FS_NR];

    *out = (struct cpuid_regs){ 0 };
    if (leaf >= 0x40000000u && leaf <= 0x400001ffu) {
        hypervisor_leaf(ctx, leaf, subleaf, out);
        return;
    }
    if (leaf > BASIC_LAST && (leaf < 0x80000000u || leaf > 0x80000000u + EXTD_LAST_AMD))
        return;

    host_init(&h, ctx);
    guest_featureset(&h, 0, fs);
    if (leaf <= BASIC_LAST) {
        if (leaf <= h.max_basic)
            basic_leaf(&h, fs, leaf, subleaf, out);
    } else {
        uint32_t max = MIN(h.max_extd, is_amd_like(&h) ? EXTD_LAST_AMD : EXTD_LAST_OTHER);

        if ((leaf & 0xffffu) <= max)
            extd_leaf(&h, fs, leaf, max, out);
    }
}
