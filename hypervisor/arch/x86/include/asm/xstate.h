/*
 * Extended processor state (XSAVE) and the FPU state of vCPUs (arch/x86/xstate.c).
 *
 * On a CPU with XSAVE enso sets CR4.OSXSAVE and enables in XCR0 the components Xen
 * 4.17 offers PV guests (x87, SSE, AVX, AVX-512; not MPX, PKRU, AMX or CET). Each vCPU
 * has its own save area and its own XCR0, which the CPU holds while the vCPU runs.
 * Without XSAVE the area is an FXSAVE image.
 */
#ifndef ASM_XSTATE_H
#define ASM_XSTATE_H

#include <enso/types.h>

struct vcpu;

#define XSTATE_X87 (1ULL << 0)
#define XSTATE_SSE (1ULL << 1)
#define XSTATE_YMM (1ULL << 2)
#define XSTATE_BNDREGS (1ULL << 3)
#define XSTATE_BNDCSR (1ULL << 4)
#define XSTATE_OPMASK (1ULL << 5)
#define XSTATE_ZMM_HI256 (1ULL << 6)
#define XSTATE_HI16_ZMM (1ULL << 7)
#define XSTATE_FP_SSE (XSTATE_X87 | XSTATE_SSE)
#define XSTATE_AVX512 (XSTATE_OPMASK | XSTATE_ZMM_HI256 | XSTATE_HI16_ZMM)
/* The components a PV guest may be given. */
#define XSTATE_GUEST_CAPABLE (XSTATE_FP_SSE | XSTATE_YMM | XSTATE_AVX512)

#define XSTATE_AREA_MIN 576 /* the FXSAVE image and the 64-byte header */

/* The architectural rules for an XCR0 value (Xen's valid_xcr0). */
static inline bool xcr0_valid(uint64_t xcr0)
{
    if (!(xcr0 & XSTATE_X87))
        return false;
    if ((xcr0 & XSTATE_YMM) && !(xcr0 & XSTATE_SSE))
        return false;
    /* The AVX-512 parts come together, and only on top of YMM. */
    if ((xcr0 & XSTATE_AVX512) &&
        (!(xcr0 & XSTATE_YMM) || (xcr0 & XSTATE_AVX512) != XSTATE_AVX512))
        return false;
    return !(xcr0 & XSTATE_BNDREGS) == !(xcr0 & XSTATE_BNDCSR);
}

/* Whether a guest whose CPUID offers the components in max may set XCR0 to val. */
static inline bool xcr0_guest_allowed(uint64_t val, uint64_t max)
{
    return !(val & ~max) && xcr0_valid(val);
}

/*
 * What enso enables, from the components the CPU supports (CPUID 0xd:0 edx:eax):
 * the guest-capable ones, trimmed to a valid XCR0. 0 if x87 and SSE are not both
 * there: then enso does not use XSAVE at all.
 */
static inline uint64_t xstate_host_mask(uint64_t supported)
{
    uint64_t m = supported & XSTATE_GUEST_CAPABLE;

    if ((m & XSTATE_FP_SSE) != XSTATE_FP_SSE)
        return 0;
    if (!(m & XSTATE_YMM) || (m & XSTATE_AVX512) != XSTATE_AVX512)
        m &= ~XSTATE_AVX512;
    return m;
}

/* Per CPU, from cpu_setup_control_regs(): CR4.OSXSAVE and XCR0 (the boot CPU first). */
void xstate_init_cpu(void);
/* Whether enso uses XSAVE (and offers it to guests). */
bool xstate_enabled(void);

/* The vCPU's save area: allocated in the reset state, freed with the vCPU. */
int vcpu_fpu_init(struct vcpu *v);
void vcpu_fpu_free(struct vcpu *v);
/* Context switch: the CPU's FPU/SSE/AVX registers and XCR0 to and from the vCPU.
 * Both leave CR0.TS clear. */
void vcpu_fpu_save(struct vcpu *v);
void vcpu_fpu_restore(struct vcpu *v);

/* XSETBV by the running vCPU v: 0, or -EINVAL if Xen would refuse it (#GP). */
int xstate_guest_xsetbv(struct vcpu *v, uint32_t index, uint64_t val);

#endif
