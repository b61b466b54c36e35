/*
 * Boot-time domains, started from the boot loader's modules. A module holding a kernel
 * (ELF or bzImage magic; the first module always counts as a kernel) starts a domain,
 * and the module after it, unless it is a kernel too, is its initrd. As on Xen, the
 * first kernel becomes domain 0, privileged, sized by dom0_mem= and dom0_max_vcpus=.
 * A domain that cannot be built is reported with its module and the reason, and the
 * others still start.
 */
#include <enso/boot_config.h>
#include <enso/cmdline.h>
#include <enso/elf.h>
#include <enso/errno.h>
#include <enso/idle_work.h>
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/xmalloc.h>
#include <asm/bootinfo.h>
#include <asm/pv_build.h>

#define DEFAULT_DOMU_MEM MB(128)
#define DEFAULT_DOM0_RESERVE MB(64)   /* left to enso when dom0_mem= is absent */

static char opt_dom0_mem[64];
string_param("dom0_mem", opt_dom0_mem);
static unsigned long opt_dom0_max_vcpus;
integer_param("dom0_max_vcpus", opt_dom0_max_vcpus);

static const void *module_data(const struct boot_module *m)
{
    return maddr_to_virt(m->start);
}

static size_t module_len(const struct boot_module *m)
{
    return (size_t)(m->end - m->start);
}

static bool module_is_kernel(const struct boot_module *m)
{
    const uint8_t *p = module_data(m);
    size_t len = module_len(m);

    if (elf_is_elf(p, len))
        return true;
    return len > 0x206 && !memcmp(p + 0x202, "HdrS", 4);
}

static unsigned long dom0_pages(unsigned long others)
{
    unsigned long target, min, max, free = heap_free_pages() << PAGE_SHIFT;

    if (opt_dom0_mem[0] && !parse_dom0_mem(opt_dom0_mem, &target, &min, &max)) {
        if (!target)
            target = max ? max : free;
        if (max && target > max)
            target = max;
        if (min && target < min)
            target = min;
        return target >> PAGE_SHIFT;
    }
    if (opt_dom0_mem[0])
        printk(LOG_WARNING "dom0_mem=%s: not understood, using the default\n", opt_dom0_mem);
    if (free < others + DEFAULT_DOM0_RESERVE + MB(16))
        return MB(16) >> PAGE_SHIFT;
    return (free - others - DEFAULT_DOM0_RESERVE) >> PAGE_SHIFT;
}

static void report_failure(unsigned int mod, const char *file, const char *why, int rc)
{
    printk(LOG_ERR "boot module %u (%s): cannot start a domain: %s (error %d)\n", mod,
           file[0] ? file : "unnamed", why, rc);
}

/* What a boot-time domain was started with, kept to start it again after a reboot. */
struct boot_start {
    unsigned int mod;
    domid_t id;
    bool priv;
    unsigned int vcpus;
    unsigned long pages;
};

/* enso.cpus=: every vCPU may run on the online CPUs of the list only. */
static int set_affinity(struct domain *d, uint64_t cpus)
{
    cpumask_t mask;

    cpumask_clear(&mask);
    for (unsigned int cpu = 0; cpu < 64 && cpu < NR_CPUS; cpu++)
        if ((cpus >> cpu) & 1 && cpumask_test_cpu(cpu, &cpu_online_map))
            cpumask_set_cpu(cpu, &mask);
    if (cpumask_empty(&mask))
        return -EINVAL;
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i])
            vcpu_set_affinity(d->vcpu[i], &mask);
    return 0;
}

static int build_one(const struct boot_start *s, const struct boot_domain_config *c)
{
    const struct boot_module *m = &boot_info.modules[s->mod];
    const struct boot_module *rd = NULL;
    struct pv_build_info info;
    struct domain *d;
    const char *why = "";
    int rc;

    if (s->mod + 1 < boot_info.nr_modules && !module_is_kernel(&boot_info.modules[s->mod + 1]))
        rd = &boot_info.modules[s->mod + 1];
    d = domain_create(s->id, c->name, s->priv, s->pages, &rc);
    if (!d) {
        report_failure(s->mod, c->file, "cannot create the domain", rc);
        return rc;
    }
    d->boot_module = (int)s->mod;
    d->restart_on_reboot = c->on_reboot_restart;
    for (unsigned int i = 0; i < s->vcpus; i++) {
        if (!vcpu_create(d, i)) {
            report_failure(s->mod, c->file, "out of memory for vCPUs", -ENOMEM);
            domain_destroy(d);
            return -ENOMEM;
        }
    }
    if (c->cpus && set_affinity(d, c->cpus)) {
        report_failure(s->mod, c->file, "enso.cpus= names no online CPU", -EINVAL);
        domain_destroy(d);
        return -EINVAL;
    }
    info = (struct pv_build_info){
        .kernel = module_data(m), .kernel_len = module_len(m),
        .initrd = rd ? module_data(rd) : NULL, .initrd_len = rd ? module_len(rd) : 0,
        .cmdline = c->cmdline, .nr_pages = s->pages, .initial_domain = s->id == 0 && s->priv,
    };
    rc = pv_build_domain(d, &info, &why);
    if (rc) {
        report_failure(s->mod, c->file, why, rc);
        domain_destroy(d);
        return rc;
    }
    printk("domain %u (%s): started%s, %u vCPU%s, command line '%s'\n", s->id, d->name,
           s->priv ? ", privileged" : "", s->vcpus, s->vcpus > 1 ? "s" : "", c->cmdline);
    vcpu_clear_pause_flag(d->vcpu[0], VPF_down);
    return 0;
}

static struct boot_start started[MAX_BOOT_MODULES];

static int start_one(unsigned int mod, const struct boot_domain_config *c, domid_t id,
                     unsigned long others)
{
    bool first = id == 0;
    struct boot_start *s = &started[mod];

    s->mod = mod;
    s->id = id;
    s->priv = c->privileged >= 0 ? c->privileged : first;
    s->vcpus = c->vcpus ? c->vcpus
               : first && opt_dom0_max_vcpus ? (unsigned int)MIN(opt_dom0_max_vcpus, 64UL) : 1;
    s->pages = c->mem_bytes ? c->mem_bytes >> PAGE_SHIFT
               : first ? dom0_pages(others) : DEFAULT_DOMU_MEM >> PAGE_SHIFT;
    return build_one(s, c);
}

/*
 * Restarts after a reboot (enso.on_reboot=restart). The module is still in memory
 * (enso never gives boot modules to the allocator) and the domain comes back with the
 * id, size and vCPUs it had. Building takes seconds (decompression), so it runs as
 * idle work and guests keep running meanwhile.
 */
struct boot_restart {
    struct idle_work work;
    unsigned int mod;
};

static void restart_work(struct idle_work *w)
{
    struct boot_restart *r = container_of(w, struct boot_restart, work);
    const struct boot_start *s = &started[r->mod];
    struct boot_domain_config c;
    const char *why = "";

    xfree(r);
    if (boot_config_parse(boot_info.modules[s->mod].string, &c, &why)) {
        report_failure(s->mod, c.file, why, -EINVAL); /* parsed once already: cannot be */
        return;
    }
    build_one(s, &c);
}

void boot_domain_rebooted(const struct domain *d)
{
    struct boot_restart *r;

    if (d->boot_module < 0 || (unsigned int)d->boot_module >= MAX_BOOT_MODULES)
        return;
    r = xzalloc_bytes(sizeof(*r));
    if (!r) {
        printk(LOG_ERR "domain %u (%s): no memory to restart it\n", d->domain_id, d->name);
        return;
    }
    printk("domain %u (%s): restarting (enso.on_reboot=restart)\n", d->domain_id, d->name);
    r->mod = (unsigned int)d->boot_module;
    r->work.fn = restart_work;
    idle_work_queue(&r->work);
}

/* Memory the non-first domains will take, so dom0's default leaves room for them. */
static unsigned long memory_for_others(void)
{
    unsigned long sum = 0;
    bool first = true;

    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        struct boot_domain_config c;
        const char *why;

        if (i > 0 && !module_is_kernel(&boot_info.modules[i]))
            continue;
        if (!first && !boot_config_parse(boot_info.modules[i].string, &c, &why))
            sum += c.mem_bytes ? c.mem_bytes : DEFAULT_DOMU_MEM;
        first = false;
    }
    return sum;
}

void start_boot_domains(void)
{
    unsigned long others = memory_for_others();
    domid_t next_id = 0;

    arch_domains_init();
    printk("boot domains: %lu heap pages free before they are built\n", heap_free_pages());
    idle_work_boot_phase(true);
    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        struct boot_domain_config c;
        const char *why = "";

        if (i > 0 && !module_is_kernel(&boot_info.modules[i]))
            continue; /* the previous kernel's initrd */
        if (boot_config_parse(boot_info.modules[i].string, &c, &why)) {
            report_failure(i, c.file, why, -EINVAL);
            continue;
        }
        if (!start_one(i, &c, next_id, others) || next_id == 0)
            next_id++;
    }
    idle_work_boot_phase(false);
    if (!boot_info.nr_modules)
        printk("no boot modules: no domains to start\n");
    guest_console_start();
}
