/* The x86 part of domains and vCPUs: what a 64-bit PV guest's CPU state is made of. */
#ifndef ASM_DOMAIN_H
#define ASM_DOMAIN_H

#include <enso/types.h>
#include <asm/page.h>
#include <asm/pv_msr.h>
#include <asm/regs.h>
#include <public/xen.h>

/*
 * Per-domain area (PML4 slot 260, the same L3 in every L4 of the domain): vCPU n's
 * 64 KiB GDT window starts at PERDOMAIN_VIRT_START + n * 2 MiB, its LDT window 64 KiB
 * above. GDT pages 0-13 are the guest's (a zero page until set_gdt), page 14 is the
 * physical CPU's page of enso descriptors (selectors 0xe000-0xefff).
 */
#define PERDOMAIN_VCPU_STRIDE (1UL << 21)
#define GDT_GUEST_FRAMES 14
#define GDT_WINDOW_PAGES 16
#define LDT_WINDOW_OFFSET (GDT_WINDOW_PAGES * PAGE_SIZE)

struct arch_domain {
    pgentry_t *perdomain_l3;       /* goes into slot 260 of each of the domain's L4s */
    pgentry_t *perdomain_l2;
    mfn_t *p2m;                    /* enso's copy of the guest's pfn -> mfn list */
    unsigned long p2m_size;
    bool iopl_allowed;             /* later: physdev set_iopl for domain 0 */
};

/* One guest trap-table entry, as the guest gave it (handler and flags). */
struct pv_trap {
    uint64_t address;
    uint8_t flags;                 /* TI_DPL_MASK | TI_MASK_EVENTS */
    uint16_t cs;
};

struct arch_vcpu {
    struct cpu_user_regs *regs;    /* guest frame at the top of the vCPU's stack */
    bool kernel_mode;              /* guest kernel (true) or guest user mode */
    mfn_t guest_table;             /* kernel L4 */
    mfn_t guest_table_user;        /* user L4, INVALID_MFN if none */
    uint64_t kernel_ss, kernel_sp; /* stack_switch: where bounces from user mode land */
    struct pv_trap trap[256];
    uint64_t event_cb, failsafe_cb, syscall_cb, syscall32_cb, sysenter_cb, nmi_cb;
    bool failsafe_masks_events, syscall_masks_events;
    uint64_t fs_base, gs_base_kernel, gs_base_user;
    uint16_t ds, es, fs, gs;       /* guest data selectors */
    bool fpu_ts;                   /* the guest's virtual CR0.TS */
    unsigned int iopl;             /* physdev set_iopl: virtual I/O privilege level */
    bool fpu_dirty;                /* fxsave area holds its state */
    uint64_t dr[8];
    struct pv_msr_vcpu msr;        /* MSR state the policy keeps (pv/msr.c) */
    uint64_t gdt_va;               /* the vCPU's GDT window */
    pgentry_t *perdomain_l1;       /* maps its GDT and LDT windows */
    unsigned int gdt_ents;
    uint8_t fpu[512] __aligned(16);/* FXSAVE image */
};

#endif
