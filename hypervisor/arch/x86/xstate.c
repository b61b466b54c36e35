/*
 * The FPU, SSE and AVX state of vCPUs: XSAVE where the CPU has it, FXSAVE otherwise.
 *
 * Switching is eager: every context switch saves the outgoing vCPU's registers and
 * loads the incoming one's. Both are done with XCR0 set to every component enso
 * enables (xstate_mask), whatever XCR0 the guests chose, so XRSTOR also loads the
 * components a vCPU has not enabled (from its own area, or their initial state):
 * nothing of another vCPU stays in the registers for a later XSETBV to uncover.
 * The vCPU's own XCR0 goes back into the CPU after the restore and stays there while
 * it runs, so XGETBV, which guests execute natively, reads it.
 *
 * The save area belongs to enso and only ever holds what XSAVE wrote or the reset
 * state, so XRSTOR cannot fault on it.
 */
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/percpu.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/xmalloc.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/pv_policy.h>
#include <asm/xstate.h>

#define FXSAVE_SIZE 512
#define FCW_DEFAULT 0x037f      /* every x87 exception masked */
#define MXCSR_DEFAULT 0x1f80    /* every SSE exception masked */
#define CPUID_XSAVEOPT (1u << 0)                /* leaf 0xd:1 eax */
#define CPUID_RSTR_FP_ERR_PTRS (1u << 2)        /* leaf 0x80000008 ebx */

static uint64_t xstate_mask;       /* 0: FXSAVE only */
static unsigned int xstate_size;   /* of an area holding every component in the mask */
static bool use_xsaveopt;
/* Older AMD CPUs save and load the x87 last-instruction pointers only while an
 * exception is pending: without a fix-up a vCPU would see the previous one's. */
static bool fpu_ptrs_leak;
static bool initialised;

static DEFINE_PER_CPU(uint64_t, xcr0);  /* what this CPU's XCR0 holds */

static void write_xcr0(uint64_t val)
{
    __asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
    this_cpu(xcr0) = val;
}

static void set_xcr0(uint64_t val)
{
    if (this_cpu(xcr0) != val)
        write_xcr0(val);
}

static bool amd_like(void)
{
    return !strncmp(boot_cpu.vendor, "AuthenticAMD", 12) ||
           !strncmp(boot_cpu.vendor, "HygonGenuine", 12);
}

static void init_globals(void)
{
    uint32_t a, b, c, d;

    if (amd_like()) {
        b = 0;
        if (boot_cpu.max_ext_leaf >= 0x80000008)
            cpuid(0x80000008, &a, &b, &c, &d);
        fpu_ptrs_leak = !(b & CPUID_RSTR_FP_ERR_PTRS);
    }
    initialised = true;
}

void xstate_init_cpu(void)
{
    uint32_t a, b, c, d;
    uint64_t mask;
    bool boot = !initialised;

    if (boot)
        init_globals();
    if (!cpu_has_xsave || boot_cpu.max_leaf < 0xd)
        return;
    write_cr4(read_cr4() | X86_CR4_OSXSAVE);
    cpuid_count(0xd, 0, &a, &b, &c, &d);
    mask = xstate_host_mask((uint64_t)d << 32 | a);
    if (boot)
        xstate_mask = mask;
    else if (mask != xstate_mask)
        panic("xstate: CPU %u offers components %#lx, the boot CPU %#lx",
              smp_processor_id(), mask, xstate_mask);
    if (!xstate_mask)
        return;
    write_xcr0(mask);
    /* ebx: the size of an area for the components XCR0 now enables. */
    cpuid_count(0xd, 0, &a, &b, &c, &d);
    if (boot) {
        BUG_ON(b < XSTATE_AREA_MIN);
        xstate_size = b;
        cpuid_count(0xd, 1, &a, &b, &c, &d);
        use_xsaveopt = a & CPUID_XSAVEOPT;
        printk("xstate: XSAVE%s, components %#lx, %u-byte areas%s\n",
               use_xsaveopt ? "OPT" : "", xstate_mask, xstate_size,
               fpu_ptrs_leak ? ", x87 pointers scrubbed" : "");
    } else if (b != xstate_size) {
        panic("xstate: CPU %u needs %u-byte areas, the boot CPU %u", smp_processor_id(),
              b, xstate_size);
    }
}

bool xstate_enabled(void)
{
    return xstate_mask != 0;
}

int vcpu_fpu_init(struct vcpu *v)
{
    size_t size = xstate_mask ? xstate_size : FXSAVE_SIZE;
    uint8_t *area = xzalloc_bytes(size);

    if (!area)
        return -ENOMEM;
    /* xmalloc aligns to the size class (at least 512 here): XSAVE needs 64. */
    BUG_ON((uintptr_t)area & 63);
    /* The reset state. An all-zero XSAVE header makes XRSTOR load every component's
     * initial state, except MXCSR, which it always takes from the area. */
    *(uint16_t *)&area[0] = FCW_DEFAULT;
    *(uint32_t *)&area[24] = MXCSR_DEFAULT;
    v->arch.fpu_area = area;
    v->arch.xcr0 = xstate_mask ? XSTATE_FP_SSE : 0;
    return 0;
}

void vcpu_fpu_free(struct vcpu *v)
{
    xfree(v->arch.fpu_area);
    v->arch.fpu_area = NULL;
}

void vcpu_fpu_save(struct vcpu *v)
{
    void *area = v->arch.fpu_area;

    clts();
    if (!xstate_mask) {
        __asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
        return;
    }
    set_xcr0(xstate_mask);
    /* XSAVEOPT may skip what is unchanged since the XRSTOR from this same area, which
     * vcpu_fpu_restore() did on this CPU before the vCPU ran. */
    if (use_xsaveopt)
        __asm__ volatile("xsaveopt64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
    else
        __asm__ volatile("xsave64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

/*
 * Where the CPU keeps the last-instruction pointers only with an exception pending,
 * a restored image without one leaves the previous vCPU's pointers: overwrite them
 * by executing an x87 load first (unless the image has an exception pending, which
 * the restore brings back anyway).
 */
static void scrub_fpu_ptrs(const uint8_t *area)
{
    uint16_t fcw = *(const uint16_t *)&area[0], fsw = *(const uint16_t *)&area[2];

    if (fsw & ~fcw & 0x3f)
        return;
    __asm__ volatile("fnclex\n\tffree %%st(7)\n\tfildl %0"
                     ::"m"(*(const uint32_t *)area));
}

void vcpu_fpu_restore(struct vcpu *v)
{
    void *area = v->arch.fpu_area;

    clts();
    if (fpu_ptrs_leak)
        scrub_fpu_ptrs(area);
    if (!xstate_mask) {
        __asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
        return;
    }
    set_xcr0(xstate_mask);
    __asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
    set_xcr0(v->arch.xcr0);
}

int xstate_guest_xsetbv(struct vcpu *v, uint32_t index, uint64_t val)
{
    uint32_t r[4];
    uint64_t max;

    if (index != 0 || !xstate_mask)
        return -EINVAL;
    /* What the guest's CPUID offers (leaf 0xd:0), as Xen checks against its policy. */
    pv_guest_cpuid(v, 0xd, 0, r);
    max = ((uint64_t)r[3] << 32 | r[0]) & xstate_mask;
    if (!xcr0_guest_allowed(val, max))
        return -EINVAL;
    v->arch.xcr0 = val;
    set_xcr0(val);
    return 0;
}
