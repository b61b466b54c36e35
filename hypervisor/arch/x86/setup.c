/*
 * start_enso(): the boot CPU's path from the loader to a running system, in dependency
 * order. Anything that fails before the console is up is reported once it is.
 */
#include <enso/cmdline.h>
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/idle_work.h>
#include <enso/irq.h>
#include <enso/lib.h>
#include <enso/memmap.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/selftest.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/time.h>
#include <enso/timer.h>
#include <asm/time.h>
#include <enso/xmalloc.h>
#include <asm/acpi.h>
#include <asm/apic.h>
#include <asm/bootinfo.h>
#include <asm/cpufeature.h>
#include <asm/mm.h>
#include <asm/m2p.h>
#include <asm/processor.h>
#include <asm/pv_build.h>

#define ENSO_VERSION "0.1"
#define MIN_RAM MB(32)

extern char __image_start[], __image_end[];
extern uint8_t smap_enabled;
void start_enso(uint32_t magic, uint32_t info) __noreturn;
void cpu_idle_loop(void) __noreturn;
void smp_prepare_boot_cpu(void);
void arch_cpu_init_boot(void);
void smp_init_ipis(void);

/* mem=<size>: use no RAM at or above this address (handy to test small machines). */
static uint64_t opt_mem;
static int parse_mem(const char *v)
{
    const char *end;
    uint64_t size;

    if (!v || !*v)
        return -EINVAL;
    size = parse_size(v, &end);
    if (*end || size == 0) {
        printk(LOG_WARNING "mem=%s: not a size (use e.g. mem=512M); ignored\n", v);
        return 0;
    }
    opt_mem = size;
    return 0;
}
custom_param("mem", parse_mem);

static void apply_mem_limit(struct memmap *map)
{
    uint64_t ram_end = memmap_ram_end(map);

    if (!opt_mem)
        return;
    if (opt_mem >= ram_end) {
        printk(LOG_WARNING "mem=%lu MiB is more than this machine's RAM (%lu MiB); ignored\n",
               opt_mem >> 20, ram_end >> 20);
        return;
    }
    if (opt_mem < MIN_RAM) {
        printk(LOG_WARNING "mem=%lu MiB is below enso's minimum of %lu MiB; using %lu MiB\n",
               opt_mem >> 20, MIN_RAM >> 20, MIN_RAM >> 20);
        opt_mem = MIN_RAM;
    }
    memmap_limit(map, opt_mem);
    printk("mem=%lu MiB: RAM above it is not used\n", opt_mem >> 20);
}

static unsigned int collect_reserved(paddr_t (*r)[2])
{
    unsigned int n = 0;

    r[n][0] = (paddr_t)((uintptr_t)__image_start - ENSO_VIRT_START);
    r[n][1] = ROUNDUP((paddr_t)((uintptr_t)__image_end - ENSO_VIRT_START), PAGE_SIZE);
    n++;
    for (unsigned int i = 0; i < boot_info.nr_modules; i++, n++) {
        r[n][0] = ROUNDDOWN(boot_info.modules[i].start, PAGE_SIZE);
        r[n][1] = ROUNDUP(boot_info.modules[i].end, PAGE_SIZE);
    }
    return n;
}

static void setup_memory(void)
{
    static paddr_t reserved[MAX_BOOT_MODULES + 1][2];
    struct memmap *map = &boot_info.memmap;

    printk("memmap: from the %s\n", boot_info.memmap_source);
    memmap_sanitize(map);
    apply_mem_limit(map);
    memmap_print(map);
    if (memmap_ram_bytes(map) < MIN_RAM)
        panic("only %lu MiB of RAM: enso needs at least %lu MiB",
              memmap_ram_bytes(map) >> 20, MIN_RAM >> 20);
    mm_init(map, reserved, collect_reserved(reserved));
}

static void console_rx_interrupt(struct cpu_user_regs *regs, unsigned int vector)
{
    console_poll_rx();
}

static void setup_console_rx(void)
{
    int irq = console_irq();

    if (irq < 0)
        return;
    console_enable_rx();
    set_irq_handler(IRQ_VECTOR_BASE + (unsigned int)irq, console_rx_interrupt);
    if (ioapic_route_isa_irq((unsigned int)irq, IRQ_VECTOR_BASE + (unsigned int)irq,
                             cpu_apic_ids[0]))
        printk(LOG_WARNING "console: cannot route IRQ %d; debug keys are unavailable\n", irq);
}

void cpu_idle_loop(void)
{
    for (;;) {
        do_softirq();
        idle_work_run();
        local_irq_disable();
        if (!softirq_pending(smp_processor_id()))
            safe_halt();       /* sti; hlt: woken by the next interrupt */
        else
            local_irq_enable();
    }
}

void start_enso(uint32_t magic, uint32_t info)
{
    bool boot_ok;

    /* Per-CPU data works from the first instruction: CPU 0 uses the link-time copy. */
    wrmsr(MSR_GS_BASE, (uint64_t)&per_cpu__cpu_info);
    boot_ok = multiboot_parse(magic, info);
    cmdline_parse(cmdline_skip_image_name(boot_info.cmdline));
    console_init();
    printk("enso %s (x86-64), a Xen-compatible hypervisor\n", ENSO_VERSION);
    printk("boot: %s from %s, command line: '%s'\n", boot_info.protocol ?: "?",
           boot_info.loader[0] ? boot_info.loader : "an unnamed loader", boot_info.cmdline);
    if (!boot_ok)
        panic("cannot continue without the boot loader's information");

    cpu_features_init();
    printk("cpu: %s family %#x model %#x (%s)%s%s%s\n", boot_cpu.vendor, boot_cpu.family,
           boot_cpu.model, boot_cpu.brand, cpu_has_nx ? " NX" : "", cpu_has_smep ? " SMEP" : "",
           cpu_has_smap ? " SMAP" : "");
    setup_memory();
    arch_cpu_init_boot();
    smap_enabled = cpu_has_smap ? 1 : 0;

    acpi_init();
    apic_init_bsp();
    smp_prepare_boot_cpu();
    ioapic_init();
    smp_init_ipis();
    time_init();
    console_start_timestamps();
    timers_init();
    rtc_start_edge_watch();
    scheduler_init();
    sched_init_cpu(0);
    m2p_init();
    local_irq_enable();
    smp_boot_cpus();
    setup_console_rx();

    run_selftests();
    boot_free_mib = heap_free_pages() >> (20 - PAGE_SHIFT);
    /* The one line that tells a person (and the tests) that boot is complete. */
    {
        char line[80];
        int n = snprintf(line, sizeof(line), "enso: %u CPUs online, %lu MiB free\n",
                         num_online_cpus(), boot_free_mib);
        console_write(line, (size_t)n);
    }
    start_boot_domains();
    cpu_idle_loop();
}

void page_alloc_bug(const char *msg, mfn_t mfn)
{
    panic("page allocator: %s (frame %#lx)", msg, mfn_x(mfn));
}

void xmalloc_bug(const char *msg, const void *p)
{
    panic("xmalloc: %s (%p)", msg, p);
}
