/*
 * VCPUOP_initialise for 64-bit PV vCPUs: the guest hands over a whole vCPU context
 * (registers, virtual IDT, GDT frames, LDT, stacks, callbacks, control and debug
 * registers, FPU image, segment bases) for a vCPU that has never run, and enso checks
 * and loads it the way Xen 4.17's arch_set_info_guest does.
 *
 * What Xen refuses, all with -EINVAL: a non-canonical rip, rsp, kernel_sp, FS/GS base,
 * callback or trap handler (and LDT base, when there are LDT entries); an LDT base that
 * is not a guest address (even with no entries), not page aligned, or more than 8192
 * entries; more GDT entries than 14 frames hold; a vCPU that starts in user mode
 * without user page tables; GDT frames that cannot become descriptor pages; a kernel or
 * user L4 that is not the domain's or cannot take the root page-table type (whose
 * validation error comes back as it is). What Xen quietly adjusts: selectors get RPL 3,
 * IOPL leaves rflags for the virtual I/O privilege level and IF is set, only CR0.TS and
 * the guest's CR4 bits count, the low 12 bits of the CR3 values are ignored, and a
 * debug register value set_debugreg would refuse is dropped (the register keeps its
 * reset value) rather than failing the call.
 *
 * The vCPU is not running and has never run (the caller holds it down and checks that
 * it is not initialised), so its state can be written without synchronising with it.
 */
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/sched.h>
#include <asm/boot.h>
#include <asm/domain.h>
#include <asm/layout.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>
#include <asm/pv_vcpu.h>
#include <asm/xstate.h>
#include <public/xen.h>

#define FXSAVE_BYTES 512
#define XSAVE_HEADER_BYTES 64
#define FCW_DEFAULT 0x037f      /* every x87 exception masked */
#define MXCSR_DEFAULT 0x1f80    /* every SSE exception masked */
#define DESCS_PER_PAGE (PAGE_SIZE / 8)

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Xen's __addr_ok: below the non-canonical hole, or above enso's range. */
static bool guest_addr(uint64_t a)
{
    return a < (1UL << 47) || a >= HYPERVISOR_VIRT_END;
}

/* A 64-bit guest's selectors run at RPL 3, whatever RPL the guest wrote. */
static uint16_t rpl3(uint64_t sel)
{
    return (uint16_t)(sel | 3);
}

/* The checks that need nothing but the context, in Xen's order. */
static int check_context(const struct vcpu_guest_context *c)
{
    const struct xen_cpu_user_regs *r = &c->user_regs;

    if (!is_canonical(r->rip) || !is_canonical(r->rsp) || !is_canonical(c->kernel_sp) ||
        (c->ldt_ents && !is_canonical(c->ldt_base)) || !is_canonical(c->fs_base) ||
        !is_canonical(c->gs_base_kernel) || !is_canonical(c->gs_base_user) ||
        !is_canonical(c->event_callback_eip) || !is_canonical(c->syscall_callback_eip) ||
        !is_canonical(c->failsafe_callback_eip))
        return -EINVAL;
    for (unsigned int i = 0; i < 256; i++)
        if (!is_canonical(c->trap_ctxt[i].address))
            return -EINVAL;
    if (!guest_addr(c->ldt_base) || (c->ldt_base & (PAGE_SIZE - 1)) ||
        c->ldt_ents > LDT_MAX_ENTRIES)
        return -EINVAL;
    /* Xen counts frames from the full 64-bit value: anything above 14 frames fails. */
    if (c->gdt_ents > (uint64_t)GDT_GUEST_FRAMES * DESCS_PER_PAGE)
        return -EINVAL;
    if (!(c->flags & VGCF_in_kernel) && !c->ctrlreg[1])
        return -EINVAL;
    return 0;
}

/* An L4 named by a CR3 value, with a reference and a root-table type reference. */
static int take_l4(struct domain *d, uint64_t cr3, mfn_t *out)
{
    mfn_t mfn = _mfn(cr3 >> PAGE_SHIFT);
    int rc;

    if (!mfn_valid(mfn))
        return -EINVAL;
    rc = get_page_and_type(mfn_to_page(mfn), d, PGT_l4_page_table);
    if (!rc)
        *out = mfn;
    return rc;
}

/* The MXCSR bits the CPU has (FXSAVE's MXCSR_MASK field; 0 there means 0xffbf). */
static uint32_t mxcsr_mask(void)
{
    static uint32_t mask;
    uint8_t image[FXSAVE_BYTES] __aligned(16);
    unsigned long cr0;
    uint32_t m;

    if (READ_ONCE(mask))
        return mask;
    /* Saving the registers disturbs nothing; only CR0.TS must be clear for it. */
    cr0 = read_cr0();
    clts();
    __asm__ volatile("fxsave64 %0" : "=m"(image));
    if (cr0 & X86_CR0_TS)
        stts();
    memcpy(&m, &image[28], sizeof(m));
    WRITE_ONCE(mask, m ? m : 0xffbf);
    return mask;
}

/*
 * The FPU state the vCPU starts with: the guest's FXSAVE image (VGCF_i387_valid) with
 * x87 and SSE marked present and every other component in its initial state, or the
 * reset state. An MXCSR with bits the CPU does not have would make the restore fault;
 * Xen, whose restore then falls back to the reset state, ends up there too.
 */
static void setup_fpu(struct vcpu *v, const struct vcpu_guest_context *c)
{
    uint8_t *area = v->arch.fpu_area;
    bool valid = c->flags & VGCF_i387_valid;
    uint32_t mxcsr;

    if (valid) {
        memcpy(&mxcsr, &c->fpu_ctxt.x[24], sizeof(mxcsr));
        valid = !(mxcsr & ~mxcsr_mask());
    }
    if (valid) {
        memcpy(area, c->fpu_ctxt.x, FXSAVE_BYTES);
    } else {
        uint16_t fcw = FCW_DEFAULT;

        mxcsr = MXCSR_DEFAULT;
        memset(area, 0, FXSAVE_BYTES);
        memcpy(&area[0], &fcw, sizeof(fcw));
        memcpy(&area[24], &mxcsr, sizeof(mxcsr));
    }
    if (xstate_enabled()) {
        uint64_t xstate_bv = valid ? XSTATE_FP_SSE : 0;

        memset(area + FXSAVE_BYTES, 0, XSAVE_HEADER_BYTES);
        memcpy(area + FXSAVE_BYTES, &xstate_bv, sizeof(xstate_bv));
    }
}

/* Debug registers from their reset values, each value applied as set_debugreg would
 * and dropped if it refuses it (Xen ignores those errors here). */
static void setup_debugregs(struct vcpu *v, const struct vcpu_guest_context *c)
{
    static const unsigned int regs[] = { 0, 1, 2, 3, 6, 7 };

    memset(v->arch.dr, 0, sizeof(v->arch.dr));
    v->arch.dr[6] = 0xffff0ff0;
    v->arch.dr[7] = 0x400;
    for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++)
        pv_set_debugreg(v, regs[i], c->debugreg[regs[i]]);
}

static void load_registers(struct vcpu *v, const struct xen_cpu_user_regs *r)
{
    struct cpu_user_regs *regs = v->arch.regs;

    memset(regs, 0, sizeof(*regs));
    regs->r15 = r->r15;
    regs->r14 = r->r14;
    regs->r13 = r->r13;
    regs->r12 = r->r12;
    regs->rbp = r->rbp;
    regs->rbx = r->rbx;
    regs->r11 = r->r11;
    regs->r10 = r->r10;
    regs->r9 = r->r9;
    regs->r8 = r->r8;
    regs->rax = r->rax;
    regs->rcx = r->rcx;
    regs->rdx = r->rdx;
    regs->rsi = r->rsi;
    regs->rdi = r->rdi;
    regs->rip = r->rip;
    regs->rsp = r->rsp;
    regs->cs = rpl3(r->cs);
    regs->ss = rpl3(r->ss);
    /* IOPL is virtual; the real interrupt flag is always on while a guest runs. */
    v->arch.iopl = (unsigned int)((r->rflags & X86_EFLAGS_IOPL) >> 12);
    regs->rflags = (r->rflags & ~X86_EFLAGS_IOPL) | X86_EFLAGS_IF;
    v->arch.ds = r->ds;
    v->arch.es = r->es;
    v->arch.fs = r->fs;
    v->arch.gs = r->gs;
}

static void load_context(struct vcpu *v, const struct vcpu_guest_context *c)
{
    load_registers(v, &c->user_regs);
    v->arch.kernel_mode = c->flags & VGCF_in_kernel;
    /* trap_ctxt is indexed by vector; each entry's own vector field is not looked at. */
    for (unsigned int i = 0; i < 256; i++)
        v->arch.trap[i] = (struct pv_trap){
            .address = c->trap_ctxt[i].address,
            .flags = c->trap_ctxt[i].flags,
            .cs = FLAT_KERNEL_CS,
        };
    v->arch.ldt_ents = (unsigned int)c->ldt_ents;
    v->arch.ldt_base = c->ldt_ents ? c->ldt_base : 0;
    v->arch.kernel_ss = rpl3(c->kernel_ss);
    v->arch.kernel_sp = c->kernel_sp;
    v->arch.event_cb = c->event_callback_eip;
    v->arch.failsafe_cb = c->failsafe_callback_eip;
    v->arch.syscall_cb = c->syscall_callback_eip;
    v->arch.failsafe_masks_events = c->flags & VGCF_failsafe_disables_events;
    v->arch.syscall_masks_events = c->flags & VGCF_syscall_disables_events;
    v->arch.fs_base = c->fs_base;
    v->arch.gs_base_kernel = c->gs_base_kernel;
    v->arch.gs_base_user = c->gs_base_user;
    v->arch.fpu_ts = c->ctrlreg[0] & X86_CR0_TS;
    /* The CR4 bits a guest controls (as a mov to %cr4 takes them). */
    v->arch.cr4_guest = c->ctrlreg[4] & (xstate_enabled() ? X86_CR4_OSXSAVE : 0);
    setup_debugregs(v, c);
    setup_fpu(v, c);
}

int pv_vcpu_initialise(struct vcpu *v, const struct vcpu_guest_context *c)
{
    struct domain *d = v->domain;
    mfn_t kernel = INVALID_MFN, user = INVALID_MFN;
    int rc = check_context(c);

    if (rc)
        return rc;
    rc = pv_set_gdt(v, c->gdt_frames, (unsigned int)c->gdt_ents);
    if (rc)
        return rc;
    rc = take_l4(d, c->ctrlreg[3], &kernel);
    if (!rc && c->ctrlreg[1])
        rc = take_l4(d, c->ctrlreg[1], &user);
    if (rc) {
        if (!mfn_eq(kernel, INVALID_MFN))
            put_page_and_type(mfn_to_page(kernel));
        pv_vcpu_release_descriptors(v);
        return rc;
    }
    load_context(v, c);
    v->arch.guest_table = kernel;
    v->arch.guest_table_user = user;
    return 0;
}
