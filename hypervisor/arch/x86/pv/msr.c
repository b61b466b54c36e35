/*
 * MSR accesses of 64-bit PV guest kernels, answered as Xen 4.17 answers them.
 *
 * Xen handles an MSR in two layers: a table of MSRs with architectural meaning (feature-
 * gated by the guest's CPUID policy, most of them state kept per vCPU), then PV-specific
 * cases (segment bases, read-only views of host registers, AMD power-management MSRs
 * that are read as zero and written to nowhere). Anything else raises #GP. Settings are
 * Xen's defaults: "msr_relaxed" is off (with it, an unknown MSR that exists on the host
 * would read as zero and swallow writes), the vPMU is off (performance counters read as
 * zero and ignore writes), dom0 is not the cpufreq controller and its vCPUs are not
 * pinned (so the power-management and northbridge MSRs stay virtual for dom0 too).
 */
#include <asm/pv_msr.h>

#define MSR_P5_MC_ADDR 0x0u
#define MSR_P5_MC_TYPE 0x1u
#define MSR_IA32_TSC 0x10u
#define MSR_IA32_PLATFORM_ID 0x17u
#define MSR_APIC_BASE 0x1b
#define MSR_TEST_CTRL 0x33u
#define MSR_CORE_THREAD_COUNT 0x35u
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_SPEC_CTRL 0x48u
#define MSR_PRED_CMD 0x49u
#define MSR_PPIN_CTL 0x4eu
#define MSR_PPIN 0x4fu
#define MSR_UCODE_WRITE 0x79u
#define MSR_UCODE_REV 0x8bu
#define MSR_P6_PERFCTR0 0xc1u
#define MSR_P6_PERFCTR7 0xc8u
#define MSR_PLATFORM_INFO 0xceu
#define MSR_CORE_CAPABILITIES 0xcfu
#define MSR_MPERF 0xe7u
#define MSR_APERF 0xe8u
#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_FLUSH_CMD 0x10bu
#define MSR_TSX_FORCE_ABORT 0x10fu
#define MSR_TSX_CTRL 0x122u
#define MSR_MCU_OPT_CTRL 0x123u
#define MSR_MISC_FEATURES_ENABLES 0x140u
#define MSR_MCG_CAP 0x179u
#define MSR_MCG_STATUS 0x17au
#define MSR_MCG_CTL 0x17bu
#define MSR_P6_EVNTSEL0 0x186u
#define MSR_P6_EVNTSEL3 0x189u
#define MSR_PERF_STATUS 0x198u
#define MSR_PERF_CTL 0x199u
#define MSR_THERM_CONTROL 0x19au
#define MSR_THERM_STATUS 0x19cu
#define MSR_MISC_ENABLE 0x1a0u
#define MSR_ENERGY_PERF_BIAS 0x1b0u
#define MSR_PAT 0x277
#define MSR_MC0_CTL2 0x280u
#define MSR_MC31_CTL2 0x29fu
#define MSR_FIXED_CTR0 0x309u
#define MSR_FIXED_CTR2 0x30bu
#define MSR_PERF_CAPABILITIES 0x345u
#define MSR_FIXED_CTR_CTRL 0x38du
#define MSR_PERF_GLOBAL_OVF_CTRL 0x390u
#define MSR_MC0_CTL 0x400u
#define MSR_MC31_MISC 0x47fu
#define MSR_MCG_EXT_CTL 0x4d0u
#define MSR_RTIT_OUTPUT_BASE 0x560u
#define MSR_RTIT_ADDR7_B 0x58fu
#define MSR_U_CET 0x6a0u
#define MSR_S_CET 0x6a2u
#define MSR_PL0_SSP 0x6a4u
#define MSR_INTERRUPT_SSP_TABLE 0x6a8u
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu
#define MSR_BNDCFGS 0xd90u
#define MSR_XSS 0xda0u
#define MSR_XEN_FIRST 0x40000000u /* hypercall page; Xen's MSR range up to 0x400002ff */
#define MSR_XEN_LAST 0x400002ffu
#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103u
#define MSR_LWP_CFG 0xc0000105u
#define MSR_LWP_CBADDR 0xc0000106u
#define MSR_K7_EVNTSEL0 0xc0010000u
#define MSR_K7_PERFCTR3 0xc0010007u
#define MSR_K8_SYSCFG 0xc0010010u
#define MSR_K8_HWCR 0xc0010015u
#define MSR_K8_IORR_BASE0 0xc0010016u
#define MSR_K8_IORR_MASK1 0xc0010019u
#define MSR_K8_TOP_MEM1 0xc001001au
#define MSR_K8_TOP_MEM2 0xc001001du
#define MSR_AMD64_NB_CFG 0xc001001fu
#define MSR_AMD_PATCHLOADER 0xc0010020u
#define MSR_K7_FID_VID_CTL 0xc0010041u
#define MSR_K7_FID_VID_STATUS 0xc0010042u
#define MSR_FAM10H_MMIO_CONF_BASE 0xc0010058u
#define MSR_K8_PSTATE_LIMIT 0xc0010061u
#define MSR_K8_PSTATE7 0xc001006bu
#define MSR_K8_TSEG_BASE 0xc0010112u
#define MSR_K8_TSEG_MASK 0xc0010113u
#define MSR_VIRT_SPEC_CTRL 0xc001011fu
#define MSR_FAM15H_EVNTSEL0 0xc0010200u
#define MSR_FAM15H_PERFCTR5 0xc001020bu
#define MSR_AMD_PPIN_CTL 0xc00102f0u
#define MSR_AMD_PPIN 0xc00102f1u
#define MSR_DR1_ADDR_MASK 0xc0011019u
#define MSR_DR3_ADDR_MASK 0xc001101bu
#define MSR_DR0_ADDR_MASK 0xc0011027u
#define MSR_AMD64_DE_CFG 0xc0011029u

#define SPEC_CTRL_IBRS (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD (1ull << 2)
#define SPEC_CTRL_IPRED_DIS (3ull << 3)
#define SPEC_CTRL_RRSBA_DIS (3ull << 5)
#define SPEC_CTRL_PSFD (1ull << 7)
#define SPEC_CTRL_BHI_DIS_S (1ull << 10)
#define PRED_CMD_IBPB (1ull << 0)
#define PRED_CMD_SBPB (1ull << 7)

#define EFER_VISIBLE 0x4d01ull /* SCE, LME, LMA, NXE, FFXSE; never SVME */
#define XEN_PAT 0x050100070406ull /* WB, WT, UC-, UC, WC, WP, UC, UC */
#define APIC_DEFAULT_BASE 0xfee00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define MISC_ENABLE_HIDE ((1ull << 7) | (1ull << 18))             /* perf mon, MONITOR */
#define MISC_ENABLE_SHOW ((1ull << 11) | (1ull << 12) | (1ull << 23)) /* no BTS/PEBS, xTPR off */
#define SYSCFG_VISIBLE (0x1dull << 18) /* MtrrFixDramEn, MtrrVarDramEn, MtrrTom2En, Tom2ForceWB */
#define DE_CFG_LFENCE_SERIALISE (1ull << 1)
#define FEATURE_CONTROL_LOCK 1ull
#define PLATFORM_INFO_CPUID_FAULTING (1ull << 31)
#define MISC_FEATURES_CPUID_FAULTING 1ull
/* MCG_CAP: two banks; Intel adds software error recovery, threshold status, CMCI. */
#define MCG_CAP_INTEL ((1ull << 24) | (1ull << 11) | (1ull << 10) | PV_MCE_BANKS)
#define MCG_CAP_OTHER ((uint64_t)PV_MCE_BANKS)

#define VF(v) (1u << (v))
#define INTEL VF(VENDOR_INTEL)
#define AMD VF(VENDOR_AMD)
#define HYGON VF(VENDOR_HYGON)
#define CENTAUR VF(VENDOR_CENTAUR)
#define SHANGHAI VF(VENDOR_SHANGHAI)

/* What one access needs to know: the guest's features and the host's identity. */
struct msr_env {
    const struct pv_msr_ctx *ctx;
    struct pv_cpu_ident id;
    uint32_t fs[FS_NR];
};

static void env_init(struct msr_env *e, const struct pv_msr_ctx *ctx)
{
    uint64_t host_caps = 0;

    e->ctx = ctx;
    pv_cpuid_ident(ctx->cpuid, &e->id);
    if (ctx->host_rdmsr(MSR_ARCH_CAPABILITIES, &host_caps))
        host_caps = 0;
    pv_cpuid_featureset(ctx->cpuid, host_caps, e->fs);
}

static bool vendor_in(const struct msr_env *e, unsigned int mask)
{
    return VF(e->id.vendor) & mask;
}

static bool has(const struct msr_env *e, unsigned int feature)
{
    return fs_test(e->fs, feature);
}

static bool is_canonical(uint64_t va)
{
    uint64_t top = va >> 47;

    return top == 0 || top == 0x1ffff;
}

static bool fits_32(uint64_t val)
{
    return (val >> 32) == 0;
}

static uint64_t guest_efer(const struct msr_env *e)
{
    uint64_t efer = 0;

    if (e->ctx->host_rdmsr(MSR_EFER, &efer))
        efer = 0;
    return efer & EFER_VISIBLE;
}

static int guest_misc_enable(const struct msr_env *e, uint64_t *val)
{
    if (e->ctx->host_rdmsr(MSR_MISC_ENABLE, val))
        return -1;
    *val = (*val & ~MISC_ENABLE_HIDE) | MISC_ENABLE_SHOW;
    return 0;
}

static uint64_t spec_ctrl_valid(const struct msr_env *e)
{
    uint64_t bits = SPEC_CTRL_IBRS | SPEC_CTRL_STIBP; /* STIBP is ignored where absent */

    if (has(e, XF_SSBD) || has(e, XF_AMD_SSBD))
        bits |= SPEC_CTRL_SSBD;
    if (has(e, XF_INTEL_PSFD) || has(e, XF_PSFD))
        bits |= SPEC_CTRL_PSFD;
    if (has(e, XF_IPRED_CTRL))
        bits |= SPEC_CTRL_IPRED_DIS;
    if (has(e, XF_RRSBA_CTRL))
        bits |= SPEC_CTRL_RRSBA_DIS;
    if (has(e, XF_BHI_CTRL))
        bits |= SPEC_CTRL_BHI_DIS_S;
    return bits;
}

static bool has_spec_ctrl(const struct msr_env *e)
{
    return has(e, XF_IBRSB) || has(e, XF_IBRS);
}

static bool has_tsc_aux(const struct msr_env *e)
{
    return has(e, XF_RDTSCP) || has(e, XF_RDPID);
}

static unsigned int dr_mask_index(uint32_t msr)
{
    return msr == MSR_DR0_ADDR_MASK ? 0 : msr - MSR_DR1_ADDR_MASK + 1;
}

/* Registers Xen never lets a guest touch: #GP either way. */
static bool never_offered(uint32_t msr)
{
    switch (msr) {
    case MSR_TEST_CTRL:
    case MSR_CORE_CAPABILITIES:
    case MSR_TSX_FORCE_ABORT:
    case MSR_TSX_CTRL:
    case MSR_MCU_OPT_CTRL:
    case MSR_RTIT_OUTPUT_BASE ... MSR_RTIT_ADDR7_B:
    case MSR_U_CET:
    case MSR_S_CET:
    case MSR_PL0_SSP ... MSR_INTERRUPT_SSP_TABLE:
    case MSR_LWP_CFG:
    case MSR_LWP_CBADDR:
    case MSR_PPIN_CTL:
    case MSR_PPIN:
    case MSR_AMD_PPIN_CTL:
    case MSR_AMD_PPIN:
    case MSR_X2APIC_FIRST ... MSR_X2APIC_LAST: /* PV guests have no (x2)APIC */
    case MSR_BNDCFGS:                         /* MPX is never offered to PV */
    case MSR_XSS:                             /* nor XSAVES */
    case MSR_VIRT_SPEC_CTRL:                  /* nor VIRT_SSBD */
    case MSR_FLUSH_CMD:                       /* nor L1D_FLUSH */
        return true;
    default:
        return false;
    }
}

static bool is_vmce_msr(uint32_t msr)
{
    return msr == MSR_P5_MC_ADDR || msr == MSR_P5_MC_TYPE ||
           (msr >= MSR_MCG_CAP && msr <= MSR_MCG_CTL) ||
           (msr >= MSR_MC0_CTL2 && msr <= MSR_MC31_CTL2) ||
           (msr >= MSR_MC0_CTL && msr <= MSR_MC31_MISC) || msr == MSR_MCG_EXT_CTL;
}

static bool in_bank(uint32_t msr)
{
    return msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * PV_MCE_BANKS;
}

/*
 * The emulated machine-check architecture: two banks whose CTL reads all-ones and whose
 * status registers can only be cleared. The rest of the MCE ranges reads as zero.
 */
static int vmce_read(const struct msr_env *e, const struct pv_msr_vcpu *v, uint32_t msr,
                     uint64_t *val)
{
    *val = 0;
    if (msr == MSR_MCG_STATUS) {
        *val = v->mcg_status;
    } else if (msr == MSR_MCG_CAP) {
        *val = e->id.vendor == VENDOR_INTEL ? MCG_CAP_INTEL : MCG_CAP_OTHER;
    } else if (msr == MSR_MCG_EXT_CTL) {
        return -1; /* local MCE is not offered */
    } else if (in_bank(msr)) {
        unsigned int bank = (msr - MSR_MC0_CTL) / 4;

        switch (msr & 3) {
        case 0: *val = ~0ull; break;
        case 1: *val = v->mci_status[bank]; break;
        case 2: *val = v->mci_addr[bank]; break;
        default: *val = v->mci_misc[bank]; break;
        }
    } else if (e->id.vendor == VENDOR_INTEL && msr >= MSR_MC0_CTL2 &&
               msr < MSR_MC0_CTL2 + PV_MCE_BANKS) {
        *val = v->mci_ctl2[msr - MSR_MC0_CTL2];
    } else if (vendor_in(e, INTEL | CENTAUR | SHANGHAI) && msr <= MSR_P5_MC_TYPE) {
        /* The Pentium-era aliases of bank 1 (older CPUs' "bank 0 quirk"). */
        *val = msr == MSR_P5_MC_ADDR ? v->mci_addr[1] : v->mci_status[1];
    }
    return 0;
}

static int vmce_write(const struct msr_env *e, struct pv_msr_vcpu *v, uint32_t msr,
                      uint64_t val)
{
    if (msr == MSR_MCG_STATUS) {
        v->mcg_status = val;
    } else if (msr == MSR_MCG_EXT_CTL) {
        return -1;
    } else if (in_bank(msr)) {
        unsigned int bank = (msr - MSR_MC0_CTL) / 4;

        if ((msr & 3) == 0)
            return 0; /* CTL stays all-ones */
        if (val)
            return -1; /* status, address and misc can only be cleared */
        if ((msr & 3) == 1)
            v->mci_status[bank] = 0;
        else if ((msr & 3) == 2)
            v->mci_addr[bank] = 0;
        else
            v->mci_misc[bank] = 0;
    } else if (e->id.vendor == VENDOR_INTEL && msr >= MSR_MC0_CTL2 &&
               msr < MSR_MC0_CTL2 + PV_MCE_BANKS) {
        v->mci_ctl2[msr - MSR_MC0_CTL2] = val;
    }
    /* MCG_CAP and MCG_CTL are read-only, other bank registers are ignored. */
    return 0;
}

/* Performance counters with the vPMU off: zero on reads, writes ignored. */
static bool is_pmu_msr(const struct msr_env *e, uint32_t msr)
{
    if (e->id.vendor == VENDOR_INTEL)
        return (msr >= MSR_P6_PERFCTR0 && msr <= MSR_P6_PERFCTR7) ||
               (msr >= MSR_P6_EVNTSEL0 && msr <= MSR_P6_EVNTSEL3) ||
               (msr >= MSR_FIXED_CTR0 && msr <= MSR_FIXED_CTR2) ||
               (msr >= MSR_FIXED_CTR_CTRL && msr <= MSR_PERF_GLOBAL_OVF_CTRL);
    if (vendor_in(e, AMD | HYGON))
        return (msr >= MSR_FAM15H_EVNTSEL0 && msr <= MSR_FAM15H_PERFCTR5) ||
               (msr >= MSR_K7_EVNTSEL0 && msr <= MSR_K7_PERFCTR3);
    return false;
}

static bool is_amd_pstate_msr(uint32_t msr)
{
    return msr == MSR_K7_FID_VID_CTL || msr == MSR_K7_FID_VID_STATUS ||
           (msr >= MSR_K8_PSTATE_LIMIT && msr <= MSR_K8_PSTATE7);
}

static bool is_amd_memmap_msr(uint32_t msr)
{
    return msr == MSR_K8_SYSCFG || msr == MSR_K8_TOP_MEM1 || msr == MSR_K8_TOP_MEM2 ||
           (msr >= MSR_K8_IORR_BASE0 && msr <= MSR_K8_IORR_MASK1) ||
           msr == MSR_K8_TSEG_BASE || msr == MSR_K8_TSEG_MASK;
}

/* MMCONFIG base register of AMD Fam10h..16h northbridges. */
static bool has_mmio_conf_base(const struct msr_env *e)
{
    return e->id.vendor == VENDOR_AMD && e->id.family >= 0x10 && e->id.family < 0x17;
}

/* The MSRs with architectural meaning (Xen's guest_rdmsr). 1 = not one of them. */
static int read_arch(const struct msr_env *e, const struct pv_msr_vcpu *v, uint32_t msr,
                     uint64_t *val)
{
    const struct pv_msr_ctx *ctx = e->ctx;

    if (never_offered(msr))
        return -1;
    if (is_vmce_msr(msr))
        return vmce_read(e, v, msr, val);
    if (is_amd_memmap_msr(msr)) {
        /* AMD's memory map: dom0 reads the host's, a domU gets #GP. */
        if (!vendor_in(e, AMD | HYGON) || !ctx->is_dom0 || ctx->host_rdmsr(msr, val))
            return -1;
        if (msr == MSR_K8_SYSCFG)
            *val &= SYSCFG_VISIBLE;
        return 0;
    }
    switch (msr) {
    case MSR_AMD_PATCHLOADER:
    case MSR_UCODE_WRITE:
    case MSR_PRED_CMD:
        return -1; /* write-only */
    case MSR_FEATURE_CONTROL:
        /* Locked, nothing enabled (no VMX, no LMCE). Read before #GP handlers exist. */
        if (!vendor_in(e, INTEL | CENTAUR | SHANGHAI))
            return -1;
        *val = FEATURE_CONTROL_LOCK;
        return 0;
    case MSR_IA32_PLATFORM_ID:
        if (e->id.vendor != VENDOR_INTEL)
            return -1;
        return ctx->host_rdmsr(msr, val) ? -1 : 0;
    case MSR_UCODE_REV:
        /* The microcode revision Xen (enso) loaded: nothing a guest can change. */
        if (!vendor_in(e, INTEL | AMD))
            return -1;
        return ctx->host_rdmsr(msr, val) ? -1 : 0;
    case MSR_SPEC_CTRL:
        if (!has_spec_ctrl(e))
            return -1;
        *val = v->spec_ctrl;
        return 0;
    case MSR_PLATFORM_INFO:
        /* Readable on every vendor; it only says whether CPUID faulting is offered. */
        *val = ctx->cpuid_faulting ? PLATFORM_INFO_CPUID_FAULTING : 0;
        return 0;
    case MSR_ARCH_CAPABILITIES:
        if (!has(e, XF_ARCH_CAPS))
            return -1;
        *val = (uint64_t)e->fs[FS_ARCH_HI] << 32 | e->fs[FS_ARCH_LO];
        return 0;
    case MSR_MISC_FEATURES_ENABLES:
        *val = v->misc_features_enables;
        return 0;
    case MSR_PERF_STATUS:
    case MSR_PERF_CTL:
        /* No cpufreq control for guests: read as zero where the MSRs exist. */
        if (!vendor_in(e, INTEL | CENTAUR))
            return -1;
        *val = 0;
        return 0;
    case MSR_THERM_STATUS:
        if (e->id.vendor != VENDOR_INTEL)
            return -1;
        *val = 0;
        return 0;
    case MSR_XEN_FIRST ... MSR_XEN_LAST:
        /* Only the hypercall-page MSR exists; it reads as zero. */
        if (msr != MSR_XEN_FIRST)
            return -1;
        *val = 0;
        return 0;
    case MSR_TSC_AUX:
        if (!has_tsc_aux(e))
            return -1;
        *val = v->tsc_aux;
        return 0;
    case MSR_K8_HWCR:
        if (!vendor_in(e, AMD | HYGON))
            return -1;
        *val = 0;
        return 0;
    case MSR_AMD64_DE_CFG:
        /* Says LFENCE is dispatch-serialising, which is what guests want to know. */
        if (!vendor_in(e, AMD | HYGON))
            return -1;
        *val = DE_CFG_LFENCE_SERIALISE;
        return 0;
    case MSR_DR0_ADDR_MASK:
    case MSR_DR1_ADDR_MASK ... MSR_DR3_ADDR_MASK:
        if (!has(e, XF_DBEXT))
            return -1;
        *val = v->dr_mask[dr_mask_index(msr)];
        return 0;
    default:
        return 1;
    }
}

/* The PV layer (Xen's read_msr after guest_rdmsr). */
static int read_pv(const struct msr_env *e, const struct pv_msr_vcpu *v, uint32_t msr,
                   uint64_t *val)
{
    const struct pv_msr_ctx *ctx = e->ctx;

    if (is_pmu_msr(e, msr)) {
        *val = 0;
        return 0;
    }
    if (is_amd_pstate_msr(msr)) {
        if (e->id.vendor != VENDOR_AMD)
            return -1;
        *val = 0;
        return 0;
    }
    switch (msr) {
    case MSR_APIC_BASE:
        /* Linux reads it: an enabled xAPIC at the default address, BSP on vCPU 0. */
        *val = APIC_DEFAULT_BASE | APIC_BASE_ENABLE |
               (ctx->cpuid->vcpu_id == 0 ? APIC_BASE_BSP : 0);
        return 0;
    case MSR_FS_BASE:
        if (!has(e, XF_LM))
            return -1;
        *val = v->fs_base;
        return 0;
    case MSR_GS_BASE:
        if (!has(e, XF_LM))
            return -1;
        *val = v->kernel_mode ? v->gs_base_kernel : v->gs_base_user;
        return 0;
    case MSR_KERNEL_GS_BASE:
        /* Always the user GS base: what SWAPGS would bring in from kernel mode. */
        if (!has(e, XF_LM))
            return -1;
        *val = v->gs_base_user;
        return 0;
    case MSR_IA32_TSC:
        return ctx->host_rdmsr(msr, val) ? -1 : 0; /* the TSC is never emulated */
    case MSR_EFER:
        *val = guest_efer(e);
        return 0;
    case MSR_PAT:
        *val = XEN_PAT;
        return 0;
    case MSR_FAM10H_MMIO_CONF_BASE:
        if (!has_mmio_conf_base(e))
            return -1;
        *val = 0;
        return 0;
    case MSR_AMD64_NB_CFG:
        *val = 0;
        return 0;
    case MSR_MISC_ENABLE:
        return guest_misc_enable(e, val);
    case MSR_PERF_CAPABILITIES:
        *val = 0; /* no extra perf capabilities */
        return 0;
    default:
        return -1;
    }
}

int pv_rdmsr(const struct pv_msr_ctx *ctx, struct pv_msr_vcpu *v, uint32_t msr, uint64_t *val)
{
    struct msr_env e;
    uint64_t scratch;
    int rc;

    *val = 0;
    /* Xen's emulator refuses RDMSR from guest user mode outright. */
    if (!v->kernel_mode)
        return -1;
    env_init(&e, ctx);
    rc = read_arch(&e, v, msr, val);
    if (rc > 0)
        rc = read_pv(&e, v, msr, val);
    if (rc == 0)
        return 0;
    /*
     * A kernel without a #GP handler yet would die on the fault: if the MSR exists on
     * the host, it reads as zero instead (the hypervisor range excepted).
     */
    *val = 0;
    if (!v->has_gp_handler && (msr >> 16) != 0x4000 && ctx->host_rdmsr(msr, &scratch) == 0)
        return 0;
    return -1;
}

static int write_hypercall_page(const struct msr_env *e, uint32_t msr, uint64_t val)
{
    /* The value is the page's guest address: frame number, offset 0 (page index 0). */
    if (msr != MSR_XEN_FIRST || (val & 0xfff) || !e->ctx->set_hypercall_page)
        return -1;
    return e->ctx->set_hypercall_page(val >> 12) ? -1 : 0;
}

static int write_arch(const struct msr_env *e, struct pv_msr_vcpu *v, uint32_t msr,
                      uint64_t val)
{
    const struct pv_msr_ctx *ctx = e->ctx;

    if (never_offered(msr))
        return -1;
    if (is_vmce_msr(msr))
        return vmce_write(e, v, msr, val);
    switch (msr) {
    case MSR_IA32_PLATFORM_ID:
    case MSR_CORE_THREAD_COUNT:
    case MSR_PLATFORM_INFO:
    case MSR_ARCH_CAPABILITIES:
        return -1; /* read-only */
    case MSR_UCODE_REV:
        /* Intel documents "write 0, CPUID, read" to fetch the revision. */
        return e->id.vendor == VENDOR_INTEL && val == 0 ? 0 : -1;
    case MSR_AMD_PATCHLOADER:
    case MSR_UCODE_WRITE:
        return -1; /* no microcode loading from PV guests */
    case MSR_SPEC_CTRL:
        if (!has_spec_ctrl(e) || (val & ~spec_ctrl_valid(e)))
            return -1;
        v->spec_ctrl = val;
        return 0;
    case MSR_PRED_CMD: {
        uint64_t valid = PRED_CMD_IBPB | (has(e, XF_SBPB) ? PRED_CMD_SBPB : 0);

        if ((!has(e, XF_IBRSB) && !has(e, XF_IBPB)) || (val & ~valid))
            return -1;
        /* A command, not state: it must reach the hardware now. */
        if (val && ctx->host_wrmsr)
            ctx->host_wrmsr(msr, val);
        return 0;
    }
    case MSR_MISC_FEATURES_ENABLES: {
        uint64_t valid = ctx->cpuid_faulting ? MISC_FEATURES_CPUID_FAULTING : 0;

        if (val & ~valid)
            return -1;
        v->misc_features_enables = val;
        return 0;
    }
    case MSR_PERF_CTL:
        return vendor_in(e, INTEL | CENTAUR) ? 0 : -1; /* discarded */
    case MSR_XEN_FIRST ... MSR_XEN_LAST:
        return write_hypercall_page(e, msr, val);
    case MSR_TSC_AUX:
        if (!has_tsc_aux(e) || !fits_32(val))
            return -1;
        v->tsc_aux = val;
        return 0;
    case MSR_AMD64_DE_CFG:
        /* Discarded: OpenBSD panics if this write faults. */
        return vendor_in(e, AMD | HYGON) ? 0 : -1;
    case MSR_DR0_ADDR_MASK:
    case MSR_DR1_ADDR_MASK ... MSR_DR3_ADDR_MASK:
        if (!has(e, XF_DBEXT) || !fits_32(val))
            return -1;
        v->dr_mask[dr_mask_index(msr)] = (uint32_t)val;
        return 0;
    default:
        return 1;
    }
}

static int write_pv(const struct msr_env *e, struct pv_msr_vcpu *v, uint32_t msr,
                    uint64_t val)
{
    uint64_t host;

    if (is_pmu_msr(e, msr))
        return 0;
    if (is_amd_pstate_msr(msr) || msr == MSR_K8_HWCR)
        return vendor_in(e, AMD | HYGON) ? 0 : -1; /* discarded */
    switch (msr) {
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!has(e, XF_LM) || !is_canonical(val))
            return -1;
        if (msr == MSR_FS_BASE)
            v->fs_base = val;
        else if (msr == MSR_GS_BASE && v->kernel_mode)
            v->gs_base_kernel = val;
        else
            v->gs_base_user = val;
        return 0;
    case MSR_EFER:
        /* Read-only, but Linux writes the current value back. */
        return val == guest_efer(e) ? 0 : -1;
    case MSR_AMD64_NB_CFG:
        return 0; /* discarded */
    case MSR_FAM10H_MMIO_CONF_BASE:
        return has_mmio_conf_base(e) ? 0 : -1;
    case MSR_MISC_ENABLE:
        /* Any value is accepted and discarded (Xen only logs a change). */
        return guest_misc_enable(e, &host);
    case MSR_MPERF:
    case MSR_APERF:
        return vendor_in(e, INTEL | AMD | HYGON) ? 0 : -1;
    case MSR_THERM_CONTROL:
    case MSR_ENERGY_PERF_BIAS:
        return e->id.vendor == VENDOR_INTEL ? 0 : -1;
    default:
        return -1;
    }
}

int pv_wrmsr(const struct pv_msr_ctx *ctx, struct pv_msr_vcpu *v, uint32_t msr, uint64_t val)
{
    struct msr_env e;
    int rc;

    if (!v->kernel_mode)
        return -1;
    env_init(&e, ctx);
    rc = write_arch(&e, v, msr, val);
    if (rc > 0)
        rc = write_pv(&e, v, msr, val);
    return rc;
}
