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
 * physical CPU's page of enso descriptors (selectors 0xe000-0xefff). LDT pages are
 * mapped one at a time, on the first fault (pv/descriptors.c).
 */
#define PERDOMAIN_VCPU_STRIDE (1UL << 21)
#define GDT_GUEST_FRAMES 14
#define GDT_WINDOW_PAGES 16
#define LDT_WINDOW_OFFSET (GDT_WINDOW_PAGES * PAGE_SIZE)

/* What a guest page of a GDT window maps while set_gdt has not given one. */
pgentry_t gdt_window_zero_entry(void);

struct domain;
/* Whether CPU cpu's TLB may hold translations of d (it ran d last, maybe still runs it). */
bool cpu_tlb_may_hold(unsigned int cpu, const struct domain *d);

struct arch_domain {
    pgentry_t *perdomain_l3;       /* goes into slot 260 of each of the domain's L4s */
    pgentry_t *perdomain_l2;
    mfn_t *p2m;                    /* enso's copy of the guest's pfn -> mfn list */
    unsigned long p2m_size;
    bool iopl_allowed;             /* later: physdev set_iopl for domain 0 */
    uint64_t tables_dropped_at;    /* tlb_clock tick of the last page table dropped */
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
    unsigned int gdt_ents;         /* set_gdt's entries (pages 0-13 of the window) */
    uint64_t ldt_base;             /* MMUEXT_SET_LDT: the LDT's linear address */
    unsigned int ldt_ents;         /* 0: no LDT */
    void *fpu_area;                /* XSAVE area or FXSAVE image (xstate.c) */
    uint64_t xcr0;                 /* the guest's XCR0, in the CPU while it runs */
    uint64_t cr4_guest;            /* CR4 bits the guest sets itself (OSXSAVE) */
};

#endif
