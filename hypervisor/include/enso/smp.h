/* CPUs: identity, the set online, and calls to run a function on other CPUs. */
#ifndef ENSO_SMP_H
#define ENSO_SMP_H

#include <enso/bitmap.h>
#include <enso/percpu.h>

/*
 * The start of each CPU's per-CPU block, where its GS base points. percpu_offset must
 * stay the first member (arch_percpu_offset() reads %gs:0).
 */
struct vcpu;
struct cpu_info {
    unsigned long percpu_offset;
    uint64_t stack_top;         /* CPUINFO_STACK_TOP: top of the running vCPU's stack */
    uint64_t scratch;           /* CPUINFO_SCRATCH: guest rsp during SYSCALL entry */
    struct vcpu *curr_vcpu;     /* `current` */
    unsigned int cpu_id;
    uint32_t apic_id;
    void *stack;        /* lowest address of this CPU's main stack */
    void *ist_stacks;   /* lowest address of its IST stacks */
    unsigned long irq_count; /* interrupts taken, for the debug keys */
    bool online;
};
extern __section(".data.percpu.first") struct cpu_info per_cpu__cpu_info;

static inline unsigned int smp_processor_id(void) { return this_cpu(cpu_info).cpu_id; }

extern cpumask_t cpu_online_map;
extern unsigned int nr_cpu_ids;   /* CPUs the firmware lists (possible CPUs) */
extern uint32_t cpu_apic_ids[NR_CPUS];
extern uint32_t cpu_acpi_ids[NR_CPUS]; /* the MADT's processor UIDs */

/* Per-CPU areas: the boot CPU's early, each AP's when it is brought up. */
void percpu_init_cpu(unsigned int cpu);
void percpu_load(unsigned int cpu);

void smp_boot_cpus(void);
unsigned int num_online_cpus(void);

/*
 * Run fn(data) on every CPU in mask (the caller's own included if in mask), with
 * interrupts off on the targets; wait until all have finished if wait is set.
 */
void on_selected_cpus(const cpumask_t *mask, void (*fn)(void *), void *data, bool wait);
void on_each_cpu(void (*fn)(void *), void *data, bool wait);
/* Flush the TLBs of the CPUs in mask: every entry (global ones too), or one address. */
void flush_tlb_mask(const cpumask_t *mask);
void flush_tlb_one_mask(const cpumask_t *mask, const void *va);
/* Send an event-check IPI (just wakes the CPU so it looks at softirqs). */
void smp_send_event_check(unsigned int cpu);

#endif
