/*
 * Domains and virtual CPUs, and the scheduler that runs vCPUs on physical CPUs.
 *
 * A domain owns memory (its page list), vCPUs and a shared_info page. Each vCPU has its
 * own enso stack: the guest's registers sit at the top of it while enso runs on the
 * vCPU's behalf, and switching vCPUs switches stacks (context_switch), so a hypercall
 * may be descheduled in the middle and resumed later.
 *
 * Locking: domain_list_lock guards the list of domains and their ids; d->page_lock
 * guards d's page list and counts; the scheduler's lock guards its run queue and the
 * vCPUs' scheduling state (sched.c).
 */
#ifndef ENSO_SCHED_H
#define ENSO_SCHED_H

#include <enso/bitmap.h>
#include <enso/event.h>
#include <enso/list.h>
#include <enso/smp.h>
#include <enso/spinlock.h>
#include <enso/timer.h>
#include <enso/types.h>
#include <asm/domain.h>
#include <public/sched.h>
#include <public/console.h>
#include <public/vcpu.h>
#include <public/xen.h>
#include <public/memory.h>

#define DOMAIN_NAME_LEN 32
#define MAX_VCPUS_PER_DOMAIN 64

/* Why a vCPU cannot run: any bit set keeps it off the CPU. */
#define VPF_down (1U << 0)      /* never started, or brought down */
#define VPF_blocked (1U << 1)   /* SCHEDOP_block: waits for an event */
#define VPF_paused (1U << 2)    /* its domain is paused, shut down or dying */

struct vcpu {
    unsigned int vcpu_id;
    struct domain *domain;
    unsigned int processor;        /* the CPU it runs on, or ran on last */
    unsigned int pause_flags;      /* VPF_* */
    bool is_running;               /* on a CPU, or its state not yet saved off one */
    bool on_cpu;                   /* a CPU still uses its stack (until switched off) */
    bool on_runq;
    struct list_head runq_elem;
    cpumask_t affinity;            /* the CPUs it may run on (hard affinity) */
    cpumask_t affinity_saved;      /* what it was before SCHEDOP_pin_override */
    bool affinity_overridden;      /* pinned by SCHEDOP_pin_override */
    uint64_t slice_end;            /* NOW() at which its time slice ends */
    uint64_t run_time;             /* ns spent running, for the debug key */
    uint64_t last_start;

    struct vcpu_info *vcpu_info;   /* in shared_info for vCPUs < 32 */
    struct vcpu_runstate_info runstate;

    void *stack;                   /* lowest address of the vCPU's enso stack */
    uint64_t saved_rsp;            /* enso stack pointer while switched out */

    struct vcpu_events events;     /* VIRQ ports, SCHEDOP_poll state */

    /* Timers (vcpu_timer.c). */
    struct timer singleshot_timer; /* VCPUOP_set_singleshot_timer, set_timer_op */
    struct timer periodic_timer;   /* armed only while the vCPU is on a CPU */
    spinlock_t periodic_lock;      /* periodic_period and periodic_last */
    s_time_t periodic_period;      /* ns; 0: off */
    s_time_t periodic_last;        /* system time of the last periodic tick */

    /* Bring-up and registered areas (vcpu_op.c). */
    bool is_initialised;           /* has a context: the builder's or VCPUOP_initialise's */
    bool nmi_pending;              /* VCPUOP_send_nmi, not yet delivered */
    bool nmi_masked;               /* in the guest's NMI handler, until its iret */
    bool runstate_area_due;        /* a copy failed in guest user mode: redo in kernel */
    bool time_area_due;
    struct page_info *vcpu_info_page; /* register_vcpu_info's frame; NULL: shared_info */
    uint64_t runstate_area;        /* guest address of its runstate copy (0: none) */
    uint64_t time_area;            /* guest address of its vcpu_time_info copy (0: none) */

    struct arch_vcpu arch;
};

enum domain_state {
    DOMST_running,
    DOMST_shutdown,   /* stopped by SCHEDOP_shutdown or a crash; memory still held */
    DOMST_dying,      /* being torn down */
};

struct domain {
    domid_t domain_id;
    char name[DOMAIN_NAME_LEN];
    bool is_privileged;
    enum domain_state state;
    unsigned int refcnt;           /* 1 while listed, plus one per get_domain_by_id */
    unsigned int shutdown_code;    /* SHUTDOWN_* once state is shutdown */
    int boot_module;               /* boot-time domain: its kernel's module, else -1 */
    bool restart_on_reboot;        /* enso.on_reboot=restart */

    spinlock_t page_lock;
    struct list_head page_list;    /* frames it owns */
    unsigned long tot_pages, max_pages;

    unsigned int max_vcpus;
    struct vcpu *vcpu[MAX_VCPUS_PER_DOMAIN];

    struct shared_info *shared_info;
    struct xencons_interface *console_ring; /* domU console page, served by enso */
    evtchn_port_t console_evtchn;  /* its event channel, whose other end is enso */
    char console_line[1024];       /* output waiting for its end of line (longer ones are cut) */
    unsigned int console_len;
    unsigned long vm_assist;       /* VMASST_TYPE_* bits enabled */
    struct xen_e820_entry *e820;   /* XENMEM_set_memory_map's, under page_lock */
    unsigned int nr_e820;

    struct list_head list;         /* on domain_list */
    struct domain_events events;   /* event-channel ports */
    struct arch_domain arch;
};

/* The vCPU running on this CPU (the CPU's idle vCPU when no guest runs). */
#define current (this_cpu(cpu_info).curr_vcpu)
static inline bool is_idle_vcpu(const struct vcpu *v) { return v->domain == NULL; }
/* Xen's hardware domain: the privileged domain 0 (SIF_INITDOMAIN). */
static inline bool is_hardware_domain(const struct domain *d)
{
    return d->domain_id == 0 && d->is_privileged;
}

extern struct list_head domain_list;
extern spinlock_t domain_list_lock;

/* A new domain with no vCPUs and no memory; NULL and *err on failure. */
struct domain *domain_create(domid_t id, const char *name, bool privileged,
                             unsigned long max_pages, int *err);
struct vcpu *vcpu_create(struct domain *d, unsigned int vcpu_id);
/* The domain with this id, with a reference to drop with put_domain; NULL if none. */
struct domain *get_domain_by_id(domid_t id);
void put_domain(struct domain *d);
/* Another reference to a domain one already holds (current's, say). */
static inline void get_domain(struct domain *d)
{
    __atomic_fetch_add(&d->refcnt, 1, __ATOMIC_ACQUIRE);
}
/* Stop the domain: every vCPU leaves its CPU for good; prints why. */
void domain_shutdown(struct domain *d, unsigned int reason);
/* Kill a domain that did something enso cannot let it go on with; says why. */
void domain_crash(struct domain *d, const char *fmt, ...) __printf(2, 3);
/* Free everything a domain holds, now; for a domain that never ran (a failed build). A
 * domain that shuts down is destroyed by enso shortly after, on its own. */
void domain_destroy(struct domain *d);

/* Frames for a domain: allocated, owned, counted against max_pages. */
struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order, unsigned int memflags);
void free_domheap_pages(struct page_info *pg, unsigned int order);
/* Flush the TLBs of every CPU that may hold d's translations (and this one's). */
void flush_domain_tlbs(struct domain *d);
/* Drop the allocation reference (once); the frame is freed when nothing maps it. */
bool put_page_alloc_ref(struct page_info *pg);
/*
 * memory_op exchange: take a frame away from d, which must hold nothing but its
 * allocation reference on it (-EINVAL otherwise), leaving tot_pages as it is; hand
 * frames from the allocator to d without counting them (they replace stolen ones);
 * free a stolen frame.
 */
int steal_domheap_page(struct domain *d, struct page_info *pg);
void assign_domheap_pages(struct domain *d, struct page_info *pg, unsigned int order);
void free_stolen_page(struct page_info *pg);

/* Per-domain page and type counts, for the 'm' debug key. */
void domain_dump_memory(void);

/* Start serving the console rings of domains other than domain 0. */
void guest_console_start(void);
/* Print what a domain that is stopping or going away still has in its console ring. */
void guest_console_flush(struct domain *d);
/* The guest signalled its console event channel: drain its ring soon. */
void guest_console_notify(struct domain *d);

/* Scheduler. */
void scheduler_init(void);
void sched_init_cpu(unsigned int cpu);
struct vcpu *idle_vcpu_of(unsigned int cpu);
void vcpu_wake(struct vcpu *v);           /* a pause flag was cleared: maybe runnable */
void vcpu_sleep(struct vcpu *v);          /* a pause flag was set: leave the CPU */
void vcpu_set_pause_flag(struct vcpu *v, unsigned int flag);
void vcpu_clear_pause_flag(struct vcpu *v, unsigned int flag);
void sched_kick_idle_cpus(void);
/* Hard affinity: v runs only on CPUs of mask (which must hold an online CPU). */
void vcpu_set_affinity(struct vcpu *v, const cpumask_t *mask);
/* SCHEDOP_pin_override for v: cpu >= 0 pins it there, cpu < 0 undoes it. 0 or -errno. */
int vcpu_pin_override(struct vcpu *v, int cpu);
/* The one CPU v may run on, or -1 if it may run on more (VCPUOP_get_physid). */
int vcpu_pinned_cpu(const struct vcpu *v);
void vcpu_yield(void);
void sched_dump(void);
/* v's runstate as accounted at its last change, or brought up to now (Xen's get). */
void vcpu_runstate_snapshot(const struct vcpu *v, struct vcpu_runstate_info *r);
void vcpu_runstate_get(const struct vcpu *v, struct vcpu_runstate_info *r);
/* Arch side, on next's stack once the switch from prev is complete (prev's state
 * saved, so another CPU may now run it), interrupts off. */
void sched_switch_done(struct vcpu *prev, struct vcpu *next);

/* The copies a vCPU registered in guest memory (vcpu_op.c): v leaves its CPU with its
 * page tables still loaded, has just been switched in, or has entered guest kernel
 * mode (a copy that failed in user mode is redone). */
void vcpu_areas_switched_out(struct vcpu *v);
void vcpu_areas_switched_in(struct vcpu *v);
void vcpu_areas_kernel_entry(struct vcpu *v);
/* Teardown: give back the frame register_vcpu_info took (v no longer runs). */
void vcpu_release_areas(struct vcpu *v);

/* Arch side of switching: the stack switch happens inside. */
void context_switch(struct vcpu *prev, struct vcpu *next);
/* Called on the next vCPU's stack once the switch is complete. */
void context_switch_done(void);
int arch_domains_init(void);
int arch_domain_create(struct domain *d);
void arch_domain_destroy(struct domain *d);
/* Drop every reference the domain's vCPUs and pinned tables hold on its frames. */
void arch_domain_relinquish(struct domain *d);
int arch_vcpu_create(struct vcpu *v);
void arch_vcpu_destroy(struct vcpu *v);
/* Print a vCPU's guest registers (it is current, or not running). */
void arch_dump_vcpu_state(struct vcpu *v);

#endif
