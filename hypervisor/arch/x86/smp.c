/*
 * Bringing up the application processors, and cross-CPU calls over IPIs.
 * APs are started one at a time: the boot CPU publishes the AP's number and stack, wakes
 * it with INIT-SIPI-SIPI and waits for it to mark itself online.
 */
#include <enso/lib.h>
#include <enso/page_alloc.h>
#include <enso/irq.h>
#include <enso/keyhandler.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/spinlock.h>
#include <enso/time.h>
#include <enso/timer.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/mm.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/regs.h>
#include <asm/tlb_clock.h>

cpumask_t cpu_online_map;
unsigned int nr_cpu_ids;
uint32_t cpu_apic_ids[NR_CPUS];
uint32_t cpu_acpi_ids[NR_CPUS];
unsigned long __per_cpu_offset[NR_CPUS];
__section(".data.percpu.first") struct cpu_info per_cpu__cpu_info;
BUILD_BUG_ON(offsetof(struct cpu_info, stack_top) != CPUINFO_STACK_TOP);
BUILD_BUG_ON(offsetof(struct cpu_info, scratch) != CPUINFO_SCRATCH);

uint64_t ap_boot_stack;
unsigned int ap_boot_cpu;
extern char trampoline_start[], trampoline_end[], trampoline_cr3[], trampoline_efer[];
extern char __per_cpu_start[], __per_cpu_end[];

void cpu_idle_loop(void) __noreturn;
void start_secondary(unsigned int cpu) __noreturn;

/*
 * The boot CPU starts on the link-time copy of the per-CPU data (offset 0) until the
 * heap exists; then every CPU, the boot CPU included, gets its own copy.
 */
void percpu_init_cpu(unsigned int cpu)
{
    size_t size = (size_t)(__per_cpu_end - __per_cpu_start);
    unsigned int order = 0;
    char *p;

    while ((PAGE_SIZE << order) < size)
        order++;
    p = alloc_xenheap_pages(order, 0);
    if (!p)
        panic("no memory for CPU %u's per-CPU data", cpu);
    memcpy(p, __per_cpu_start, size);
    __per_cpu_offset[cpu] = (unsigned long)(p - __per_cpu_start);
    per_cpu(cpu_info, cpu).percpu_offset = __per_cpu_offset[cpu];
    per_cpu(cpu_info, cpu).cpu_id = cpu;
    per_cpu(cpu_info, cpu).apic_id = cpu_apic_ids[cpu];
}

void percpu_load(unsigned int cpu)
{
    wrmsr(MSR_GS_BASE, (uint64_t)&per_cpu(cpu_info, cpu));
}

unsigned int num_online_cpus(void)
{
    return cpumask_weight(&cpu_online_map);
}

/* Common per-CPU setup, on the CPU itself. */
static void cpu_init_local(unsigned int cpu)
{
    cpu_setup_control_regs();
    gdt_tss_init_cpu(cpu);
    idt_load();
    pv_syscall_init_cpu();
}

void start_secondary(unsigned int cpu)
{
    write_cr3((uintptr_t)idle_l4 - ENSO_VIRT_START);
    percpu_load(cpu);
    cpu_init_local(cpu);
    apic_setup_cpu();
    if (apic_current_id() != cpu_apic_ids[cpu])
        printk(LOG_WARNING "smp: CPU %u came up with APIC ID %u, expected %u\n", cpu,
               apic_current_id(), cpu_apic_ids[cpu]);
    timers_init_cpu();
    sched_init_cpu(cpu);
    time_init_secondary();
    cpumask_set_cpu(cpu, &cpu_online_map);
    WRITE_ONCE(this_cpu(cpu_info).online, true);
    local_irq_enable();
    cpu_idle_loop();
}

static bool boot_one_ap(unsigned int cpu)
{
    void *stack = alloc_xenheap_pages(STACK_ORDER, 0);
    s_time_t deadline;

    if (!stack)
        return false;
    percpu_init_cpu(cpu);
    per_cpu(cpu_info, cpu).stack = stack;
    ap_boot_stack = (uint64_t)stack + STACK_SIZE;
    ap_boot_cpu = cpu;
    barrier();
    apic_wakeup_ap(cpu_apic_ids[cpu], trampoline_paddr);
    /* Emulated CPUs can be slow to start: allow a few seconds. */
    deadline = NOW() + SECONDS(5);
    while (!READ_ONCE(per_cpu(cpu_info, cpu).online) && NOW() < deadline)
        cpu_relax();
    return READ_ONCE(per_cpu(cpu_info, cpu).online);
}

void smp_boot_cpus(void)
{
    char *tramp = maddr_to_virt(trampoline_paddr);
    uint32_t my_apic = apic_current_id();
    unsigned int cpu;

    memcpy(tramp, trampoline_start, (size_t)(trampoline_end - trampoline_start));
    *(uint32_t *)(tramp + (trampoline_cr3 - trampoline_start)) =
        (uint32_t)((uintptr_t)trampoline_l4 - ENSO_VIRT_START);
    *(uint32_t *)(tramp + (trampoline_efer - trampoline_start)) =
        EFER_LME | (cpu_has_nx ? EFER_NXE : 0);
    for (cpu = 1; cpu < nr_cpu_ids; cpu++) {
        if (cpu_apic_ids[cpu] == my_apic)
            continue;
        if (!boot_one_ap(cpu))
            printk(LOG_ERR "smp: CPU %u (APIC ID %u) did not come up\n", cpu, cpu_apic_ids[cpu]);
    }
}

/* Early boot CPU setup: CPU 0 is whichever CPU the loader started us on. */
void smp_prepare_boot_cpu(void)
{
    uint32_t id = apic_current_id();

    /* Put the boot CPU's APIC ID first so that it is CPU 0. */
    for (unsigned int i = 0; i < nr_cpu_ids; i++) {
        if (cpu_apic_ids[i] == id) {
            cpu_apic_ids[i] = cpu_apic_ids[0];
            cpu_apic_ids[0] = id;
        }
    }
    per_cpu(cpu_info, 0).apic_id = id;
    cpumask_set_cpu(0, &cpu_online_map);
    this_cpu(cpu_info).online = true;
}

void arch_cpu_init_boot(void)
{
    percpu_init_cpu(0);
    percpu_load(0);
    idt_init();
    cpu_init_local(0);
}

/* Cross-CPU function calls: one request at a time, serialised by call_lock. */
static DEFINE_SPINLOCK(call_lock);
static struct {
    void (*fn)(void *);
    void *data;
    bool wait;
    cpumask_t pending;  /* CPUs that have not yet finished (or, !wait, started) */
} call_data;

static void call_function_interrupt(struct cpu_user_regs *regs, unsigned int vector)
{
    void (*fn)(void *) = call_data.fn;
    void *data = call_data.data;
    unsigned int cpu = smp_processor_id();

    if (!call_data.wait)
        cpumask_clear_cpu(cpu, &call_data.pending);
    fn(data);
    if (call_data.wait)
        cpumask_clear_cpu(cpu, &call_data.pending);
}

static void send_ipi_mask(const cpumask_t *mask, unsigned int vector)
{
    unsigned int cpu;

    for_each_cpu(cpu, mask)
        apic_send_ipi(cpu_apic_ids[cpu], vector);
}

void on_selected_cpus(const cpumask_t *mask, void (*fn)(void *), void *data, bool wait)
{
    unsigned int me = smp_processor_id();
    cpumask_t others;
    unsigned long flags;

    cpumask_and(&others, mask, &cpu_online_map);
    cpumask_clear_cpu(me, &others);
    /* Spinning with interrupts off on call_lock could deadlock against a caller on
     * another CPU waiting for us; callers must have interrupts enabled. */
    ASSERT(local_irq_is_enabled() || cpumask_empty(&others));
    spin_lock(&call_lock);
    call_data.fn = fn;
    call_data.data = data;
    call_data.wait = wait;
    cpumask_copy(&call_data.pending, &others);
    __asm__ volatile("mfence" ::: "memory");
    send_ipi_mask(&others, VECTOR_CALL_FUNCTION);
    if (cpumask_test_cpu(me, mask)) {
        flags = local_irq_save();
        fn(data);
        local_irq_restore(flags);
    }
    while (!cpumask_empty(&call_data.pending))
        cpu_relax();
    spin_unlock(&call_lock);
}

void on_each_cpu(void (*fn)(void *), void *data, bool wait)
{
    on_selected_cpus(&cpu_online_map, fn, data, wait);
}

static void flush_all_local(void *unused)
{
    flush_tlb_local_noted();
}

static void flush_one_local(void *va)
{
    invlpg(va);
}

void flush_tlb_mask(const cpumask_t *mask)
{
    on_selected_cpus(mask, flush_all_local, NULL, true);
}

void flush_tlb_one_mask(const cpumask_t *mask, const void *va)
{
    on_selected_cpus(mask, flush_one_local, (void *)va, true);
}

static void event_check_interrupt(struct cpu_user_regs *regs, unsigned int vector)
{
    /* Nothing to do: the idle loop looks at softirqs after any interrupt. */
}

void smp_send_event_check(unsigned int cpu)
{
    apic_send_ipi(cpu_apic_ids[cpu], VECTOR_EVENT_CHECK);
}

static void stop_this_cpu(void *unused)
{
    local_irq_disable();
    cpumask_clear_cpu(smp_processor_id(), &cpu_online_map);
    for (;;)
        halt();
}

/* From panic: other CPUs are parked with an NMI-free IPI; do not wait for them long. */
void arch_stop_other_cpus(void)
{
    unsigned int me = smp_processor_id(), cpu;

    for_each_cpu(cpu, &cpu_online_map) {
        if (cpu == me)
            continue;
        call_data.fn = stop_this_cpu;
        call_data.wait = false;
        apic_send_ipi(cpu_apic_ids[cpu], VECTOR_CALL_FUNCTION);
    }
    mdelay(10);
}

static void dump_regs_local(void *unused)
{
    struct cpu_user_regs r;
    uint64_t rbp;

    memset(&r, 0, sizeof(r));
    __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
    r.rip = (uint64_t)dump_regs_local;
    r.rsp = (uint64_t)&r;
    r.rbp = rbp;
    printk("*** CPU %u (APIC ID %u), %lu interrupts taken ***\n", smp_processor_id(),
           this_cpu(cpu_info).apic_id, this_cpu(cpu_info).irq_count);
    show_registers(&r);
    show_backtrace(rbp, r.rip);
}

static void dump_cpus(char key)
{
    printk("'%c' pressed -> dumping the state of every CPU\n", key);
    on_each_cpu(dump_regs_local, NULL, true);
}
register_keyhandler('d', dump_cpus, "dump registers and backtrace of every CPU");

void smp_init_ipis(void)
{
    set_irq_handler(VECTOR_CALL_FUNCTION, call_function_interrupt);
    set_irq_handler(VECTOR_EVENT_CHECK, event_check_interrupt);
}
