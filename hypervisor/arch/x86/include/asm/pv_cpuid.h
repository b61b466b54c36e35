/*
 * The CPUID view of a 64-bit PV guest: what Xen 4.17's default PV policy shows, computed
 * from the host's CPUID (through a callback, so the rules run on the host in unit tests).
 */
#ifndef ASM_PV_CPUID_H
#define ASM_PV_CPUID_H

#include <enso/types.h>

struct cpuid_regs {
    uint32_t a, b, c, d;
};

/* Host values come from a callback so the code is testable on the host. */
typedef void (*host_cpuid_fn)(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);

struct pv_cpuid_ctx {
    host_cpuid_fn host;
    bool is_dom0;
    unsigned int vcpu_id, nr_vcpus;
    unsigned int xen_major, xen_minor; /* 4, 17 */
    uint32_t tsc_khz;                  /* the host TSC frequency (Xen's cpu_khz) */
    /*
     * Whether enso switches XSAVE state for guests (the CPU has XSAVE): when false, hide
     * XSAVE/OSXSAVE/AVX* and every feature that needs XSAVE state (leaf 0xd empty).
     */
    bool xsave_available;
    /* The CPUID came from guest kernel mode (Xen leaks a few bits to dom0's kernel). */
    bool kernel_mode;
    /* The guest's virtual CR4.OSXSAVE (only meaningful with xsave_available). */
    bool guest_cr4_osxsave;
    /* domU only: system time (ns) when the domain was created (Xen's vtsc_offset). */
    uint64_t vtsc_offset;
    /* One past the highest machine frame enso may hand out (Xen's max_page). */
    uint64_t max_page;
};

void pv_cpuid(const struct pv_cpuid_ctx *ctx, uint32_t leaf, uint32_t subleaf,
              struct cpuid_regs *out);

/*
 * Featureset words: Xen's numbering (public/arch-x86/cpufeatureset.h), one 32-bit word
 * per CPUID register (or MSR half) that holds feature flags.
 */
enum {
    FS_1D,      /* 0x00000001.edx */
    FS_1C,      /* 0x00000001.ecx */
    FS_E1D,     /* 0x80000001.edx */
    FS_E1C,     /* 0x80000001.ecx */
    FS_DA1,     /* 0x0000000d:1.eax */
    FS_7B0,     /* 0x00000007:0.ebx */
    FS_7C0,     /* 0x00000007:0.ecx */
    FS_E7D,     /* 0x80000007.edx */
    FS_E8B,     /* 0x80000008.ebx */
    FS_7D0,     /* 0x00000007:0.edx */
    FS_7A1,     /* 0x00000007:1.eax */
    FS_E21A,    /* 0x80000021.eax */
    FS_7B1,     /* 0x00000007:1.ebx */
    FS_7D2,     /* 0x00000007:2.edx */
    FS_7C1,     /* 0x00000007:1.ecx */
    FS_7D1,     /* 0x00000007:1.edx */
    FS_ARCH_LO, /* MSR_ARCH_CAPABILITIES bits 31:0 */
    FS_ARCH_HI, /* MSR_ARCH_CAPABILITIES bits 63:32 */
    FS_E21C,    /* 0x80000021.ecx */
    FS_NR
};

#define XF(word, bit) ((word) * 32 + (bit))

/* The features enso's PV policy refers to by name. */
enum {
    XF_FPU = XF(FS_1D, 0), XF_VME = XF(FS_1D, 1), XF_DE = XF(FS_1D, 2),
    XF_PSE = XF(FS_1D, 3), XF_TSC = XF(FS_1D, 4), XF_MSR = XF(FS_1D, 5),
    XF_PAE = XF(FS_1D, 6), XF_MCE = XF(FS_1D, 7), XF_CX8 = XF(FS_1D, 8),
    XF_APIC = XF(FS_1D, 9), XF_SEP = XF(FS_1D, 11), XF_MTRR = XF(FS_1D, 12),
    XF_PGE = XF(FS_1D, 13), XF_MCA = XF(FS_1D, 14), XF_CMOV = XF(FS_1D, 15),
    XF_PAT = XF(FS_1D, 16), XF_PSE36 = XF(FS_1D, 17), XF_CLFLUSH = XF(FS_1D, 19),
    XF_DS = XF(FS_1D, 21), XF_ACPI = XF(FS_1D, 22), XF_MMX = XF(FS_1D, 23),
    XF_FXSR = XF(FS_1D, 24), XF_SSE = XF(FS_1D, 25), XF_SSE2 = XF(FS_1D, 26),
    XF_SS = XF(FS_1D, 27), XF_HTT = XF(FS_1D, 28),

    XF_SSE3 = XF(FS_1C, 0), XF_PCLMULQDQ = XF(FS_1C, 1), XF_MONITOR = XF(FS_1C, 3),
    XF_VMX = XF(FS_1C, 5), XF_EIST = XF(FS_1C, 7), XF_SSSE3 = XF(FS_1C, 9),
    XF_FMA = XF(FS_1C, 12), XF_CX16 = XF(FS_1C, 13), XF_PCID = XF(FS_1C, 17),
    XF_SSE4_1 = XF(FS_1C, 19), XF_SSE4_2 = XF(FS_1C, 20), XF_X2APIC = XF(FS_1C, 21),
    XF_MOVBE = XF(FS_1C, 22), XF_POPCNT = XF(FS_1C, 23), XF_TSC_DEADLINE = XF(FS_1C, 24),
    XF_AESNI = XF(FS_1C, 25), XF_XSAVE = XF(FS_1C, 26), XF_OSXSAVE = XF(FS_1C, 27),
    XF_AVX = XF(FS_1C, 28), XF_F16C = XF(FS_1C, 29), XF_RDRAND = XF(FS_1C, 30),
    XF_HYPERVISOR = XF(FS_1C, 31),

    XF_SYSCALL = XF(FS_E1D, 11), XF_NX = XF(FS_E1D, 20), XF_MMXEXT = XF(FS_E1D, 22),
    XF_FFXSR = XF(FS_E1D, 25), XF_PAGE1GB = XF(FS_E1D, 26), XF_RDTSCP = XF(FS_E1D, 27),
    XF_LM = XF(FS_E1D, 29), XF_3DNOWEXT = XF(FS_E1D, 30), XF_3DNOW = XF(FS_E1D, 31),

    XF_LAHF_LM = XF(FS_E1C, 0), XF_CMP_LEGACY = XF(FS_E1C, 1), XF_SVM = XF(FS_E1C, 2),
    XF_ABM = XF(FS_E1C, 5), XF_SSE4A = XF(FS_E1C, 6), XF_MISALIGNSSE = XF(FS_E1C, 7),
    XF_3DNOWPREFETCH = XF(FS_E1C, 8), XF_XOP = XF(FS_E1C, 11), XF_FMA4 = XF(FS_E1C, 16),
    XF_TBM = XF(FS_E1C, 21), XF_DBEXT = XF(FS_E1C, 26),

    XF_XSAVEOPT = XF(FS_DA1, 0), XF_XSAVEC = XF(FS_DA1, 1), XF_XGETBV1 = XF(FS_DA1, 2),
    XF_XSAVES = XF(FS_DA1, 3),

    XF_FSGSBASE = XF(FS_7B0, 0), XF_BMI1 = XF(FS_7B0, 3), XF_HLE = XF(FS_7B0, 4),
    XF_AVX2 = XF(FS_7B0, 5), XF_FDP_EXCP_ONLY = XF(FS_7B0, 6), XF_SMEP = XF(FS_7B0, 7),
    XF_BMI2 = XF(FS_7B0, 8), XF_ERMS = XF(FS_7B0, 9), XF_INVPCID = XF(FS_7B0, 10),
    XF_RTM = XF(FS_7B0, 11), XF_NO_FPU_SEL = XF(FS_7B0, 13), XF_MPX = XF(FS_7B0, 14),
    XF_AVX512F = XF(FS_7B0, 16), XF_AVX512DQ = XF(FS_7B0, 17), XF_RDSEED = XF(FS_7B0, 18),
    XF_ADX = XF(FS_7B0, 19), XF_SMAP = XF(FS_7B0, 20), XF_AVX512_IFMA = XF(FS_7B0, 21),
    XF_CLFLUSHOPT = XF(FS_7B0, 23), XF_CLWB = XF(FS_7B0, 24), XF_AVX512PF = XF(FS_7B0, 26),
    XF_AVX512ER = XF(FS_7B0, 27), XF_AVX512CD = XF(FS_7B0, 28), XF_SHA = XF(FS_7B0, 29),
    XF_AVX512BW = XF(FS_7B0, 30), XF_AVX512VL = XF(FS_7B0, 31),

    XF_PREFETCHWT1 = XF(FS_7C0, 0), XF_AVX512_VBMI = XF(FS_7C0, 1), XF_UMIP = XF(FS_7C0, 2),
    XF_PKU = XF(FS_7C0, 3), XF_OSPKE = XF(FS_7C0, 4), XF_AVX512_VBMI2 = XF(FS_7C0, 6),
    XF_GFNI = XF(FS_7C0, 8), XF_VAES = XF(FS_7C0, 9), XF_VPCLMULQDQ = XF(FS_7C0, 10),
    XF_AVX512_VNNI = XF(FS_7C0, 11), XF_AVX512_BITALG = XF(FS_7C0, 12),
    XF_AVX512_VPOPCNTDQ = XF(FS_7C0, 14), XF_RDPID = XF(FS_7C0, 22),
    XF_CLDEMOTE = XF(FS_7C0, 25),

    XF_ITSC = XF(FS_E7D, 8),

    XF_CLZERO = XF(FS_E8B, 0), XF_RSTR_FP_ERR_PTRS = XF(FS_E8B, 2), XF_IBPB = XF(FS_E8B, 12),
    XF_IBRS = XF(FS_E8B, 14), XF_AMD_SSBD = XF(FS_E8B, 24), XF_VIRT_SSBD = XF(FS_E8B, 25),
    XF_SSB_NO = XF(FS_E8B, 26), XF_PSFD = XF(FS_E8B, 28), XF_BTC_NO = XF(FS_E8B, 29),
    XF_IBPB_RET = XF(FS_E8B, 30),

    XF_AVX512_4VNNIW = XF(FS_7D0, 2), XF_AVX512_4FMAPS = XF(FS_7D0, 3),
    XF_FSRM = XF(FS_7D0, 4), XF_MD_CLEAR = XF(FS_7D0, 10),
    XF_RTM_ALWAYS_ABORT = XF(FS_7D0, 11), XF_SERIALIZE = XF(FS_7D0, 14),
    XF_IBRSB = XF(FS_7D0, 26), XF_STIBP = XF(FS_7D0, 27), XF_L1D_FLUSH = XF(FS_7D0, 28),
    XF_ARCH_CAPS = XF(FS_7D0, 29), XF_SSBD = XF(FS_7D0, 31),

    XF_AVX_VNNI = XF(FS_7A1, 4), XF_AVX512_BF16 = XF(FS_7A1, 5), XF_FZRM = XF(FS_7A1, 10),
    XF_FSRS = XF(FS_7A1, 11), XF_FSRCS = XF(FS_7A1, 12),

    XF_LFENCE_DISPATCH = XF(FS_E21A, 2), XF_VERW_CLEAR = XF(FS_E21A, 5),
    XF_NSCB = XF(FS_E21A, 6), XF_SBPB = XF(FS_E21A, 27), XF_IBPB_BRTYPE = XF(FS_E21A, 28),
    XF_SRSO_NO = XF(FS_E21A, 29), XF_SRSO_US_NO = XF(FS_E21A, 30),

    XF_INTEL_PSFD = XF(FS_7D2, 0), XF_IPRED_CTRL = XF(FS_7D2, 1),
    XF_RRSBA_CTRL = XF(FS_7D2, 2), XF_BHI_CTRL = XF(FS_7D2, 4), XF_MCDT_NO = XF(FS_7D2, 5),

    XF_RDCL_NO = XF(FS_ARCH_LO, 0), XF_EIBRS = XF(FS_ARCH_LO, 1),
    XF_RSBA = XF(FS_ARCH_LO, 2), XF_INTEL_SSB_NO = XF(FS_ARCH_LO, 4),
    XF_MDS_NO = XF(FS_ARCH_LO, 5), XF_IF_PSCHANGE_MC_NO = XF(FS_ARCH_LO, 6),
    XF_TAA_NO = XF(FS_ARCH_LO, 8), XF_SBDR_SSDP_NO = XF(FS_ARCH_LO, 13),
    XF_FBSDP_NO = XF(FS_ARCH_LO, 14), XF_PSDP_NO = XF(FS_ARCH_LO, 15),
    XF_FB_CLEAR = XF(FS_ARCH_LO, 17), XF_RRSBA = XF(FS_ARCH_LO, 19),
    XF_BHI_NO = XF(FS_ARCH_LO, 20), XF_PBRSB_NO = XF(FS_ARCH_LO, 24),
    XF_GDS_NO = XF(FS_ARCH_LO, 26), XF_RFDS_NO = XF(FS_ARCH_LO, 27),
    XF_RFDS_CLEAR = XF(FS_ARCH_LO, 28),
    XF_ITS_NO = XF(FS_ARCH_HI, 30),

    XF_TSA_SQ_NO = XF(FS_E21C, 1), XF_TSA_L1_NO = XF(FS_E21C, 2),
};

static inline bool fs_test(const uint32_t *fs, unsigned int f)
{
    return fs[f / 32] & (1u << (f % 32));
}

/* Xen's vendor classes, as far as the PV policy tells them apart. */
enum x86_vendor { VENDOR_UNKNOWN, VENDOR_INTEL, VENDOR_AMD, VENDOR_HYGON, VENDOR_CENTAUR,
                  VENDOR_SHANGHAI };

struct pv_cpu_ident {
    enum x86_vendor vendor;
    unsigned int family, model;
};

void pv_cpuid_ident(const struct pv_cpuid_ctx *ctx, struct pv_cpu_ident *id);

/*
 * The guest's featureset: every word as the guest sees it, the MSR_ARCH_CAPABILITIES
 * words computed from host_arch_caps (0 if the host has no such MSR).
 */
void pv_cpuid_featureset(const struct pv_cpuid_ctx *ctx, uint64_t host_arch_caps,
                         uint32_t fs[FS_NR]);

#endif
