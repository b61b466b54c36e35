/*
 * Domains: creation, memory ownership, shutdown and destruction.
 *
 * Every frame a domain owns is on its page_list with u.owner pointing at it, and counted
 * in tot_pages, which never exceeds max_pages. A frame is allocated with one reference,
 * the allocation reference (PGC_allocated); it goes back to the allocator, marked for
 * scrubbing, when its last reference is dropped, so no data leaks to the next owner and
 * no frame is freed while something still maps it.
 *
 * A domain that shuts down is destroyed shortly after (there is no toolstack yet to do
 * it, so enso acts like xl's default on_poweroff=destroy): once none of its vCPUs is on
 * a CPU and nobody holds a reference to it, its resources are released and every frame
 * returns to the free pool. A boot-time domain started with enso.on_reboot=restart that
 * rebooted is then built again from its module (boot_domain_rebooted).
 */
#include <enso/boot_config.h>
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/time.h>
#include <enso/timer.h>
#include <enso/vcpu_timer.h>
#include <enso/xmalloc.h>
#include <asm/m2p.h>

LIST_HEAD(domain_list);
DEFINE_SPINLOCK(domain_list_lock);

static const char *const shutdown_reasons[] = {
    [SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
    [SHUTDOWN_suspend] = "suspend", [SHUTDOWN_crash] = "crash",
    [SHUTDOWN_watchdog] = "watchdog", [SHUTDOWN_soft_reset] = "soft_reset",
};

static const char *shutdown_reason_name(unsigned int r)
{
    return r < ARRAY_SIZE(shutdown_reasons) && shutdown_reasons[r] ? shutdown_reasons[r]
                                                                     : "unknown";
}

/* The reaper: destroys domains that have shut down, once they are quiet. */
static struct timer reaper;
static bool reaper_ready;
static void reap_domains(void *data);
#define REAP_DELAY MILLISECS(20) /* lets the console poller print their last lines */

static struct domain *find_domain(domid_t id)
{
    struct domain *d;

    list_for_each_entry(d, &domain_list, list)
        if (d->domain_id == id)
            return d;
    return NULL;
}

struct domain *get_domain_by_id(domid_t id)
{
    struct domain *d;

    spin_lock(&domain_list_lock);
    d = find_domain(id);
    if (d)
        get_domain(d);
    spin_unlock(&domain_list_lock);
    return d;
}

void put_domain(struct domain *d)
{
    __atomic_fetch_sub(&d->refcnt, 1, __ATOMIC_RELEASE);
}

struct domain *domain_create(domid_t id, const char *name, bool privileged,
                             unsigned long max_pages, int *err)
{
    struct domain *d, *other = get_domain_by_id(id);

    if (other)
        put_domain(other);
    if (id >= DOMID_FIRST_RESERVED || other) {
        *err = -EEXIST;
        return NULL;
    }
    if (!reaper_ready) {
        /* The first domain is created on the boot CPU before any other can be. */
        init_timer(&reaper, reap_domains, NULL, smp_processor_id());
        reaper_ready = true;
    }
    d = xzalloc_bytes(sizeof(*d));
    if (!d) {
        *err = -ENOMEM;
        return NULL;
    }
    d->domain_id = id;
    strlcpy(d->name, name, sizeof(d->name));
    d->is_privileged = privileged;
    d->max_pages = max_pages;
    d->state = DOMST_running;
    d->boot_module = -1;
    d->refcnt = 1; /* domain_list's */
    spin_lock_init(&d->page_lock);
    list_init(&d->page_list);
    evtchn_init(d);
    *err = arch_domain_create(d);
    if (*err) {
        xfree(d);
        return NULL;
    }
    spin_lock(&domain_list_lock);
    list_add_tail(&d->list, &domain_list);
    spin_unlock(&domain_list_lock);
    return d;
}

struct vcpu *vcpu_create(struct domain *d, unsigned int vcpu_id)
{
    struct vcpu *v;

    if (vcpu_id >= MAX_VCPUS_PER_DOMAIN || d->vcpu[vcpu_id])
        return NULL;
    v = xzalloc_bytes(sizeof(*v));
    if (!v)
        return NULL;
    v->vcpu_id = vcpu_id;
    v->domain = d;
    v->pause_flags = VPF_down;
    v->runstate.state = RUNSTATE_offline;
    v->runstate.state_entry_time = (uint64_t)NOW();
    list_init(&v->runq_elem);
    if (vcpu_id < XEN_LEGACY_MAX_VCPUS && d->shared_info)
        v->vcpu_info = &d->shared_info->vcpu_info[vcpu_id];
    /* Spread vCPUs over the online CPUs: domain id and vCPU number pick one. */
    v->processor = (d->domain_id + vcpu_id) % num_online_cpus();
    cpumask_copy(&v->affinity, &cpu_online_map);
    vcpu_timer_init(v);
    if (arch_vcpu_create(v)) {
        xfree(v);
        return NULL;
    }
    d->vcpu[vcpu_id] = v;
    if (vcpu_id >= d->max_vcpus)
        d->max_vcpus = vcpu_id + 1;
    return v;
}

struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order, unsigned int memflags)
{
    struct page_info *pg;
    unsigned long n = 1UL << order;

    spin_lock(&d->page_lock);
    if (d->state == DOMST_dying || d->tot_pages + n > d->max_pages) {
        spin_unlock(&d->page_lock);
        return NULL;
    }
    d->tot_pages += n; /* claimed before allocating so racing callers cannot overshoot */
    spin_unlock(&d->page_lock);

    pg = alloc_heap_pages(order, memflags);
    spin_lock(&d->page_lock);
    if (!pg) {
        d->tot_pages -= n;
    } else {
        for (unsigned long i = 0; i < n; i++) {
            pg[i].u.owner = d;
            pg[i].count_info = PGC_allocated | 1;
            list_add_tail(&pg[i].list, &d->page_list);
        }
    }
    spin_unlock(&d->page_lock);
    return pg;
}

void free_domheap_pages(struct page_info *pg, unsigned int order)
{
    struct domain *d = pg->u.owner;
    unsigned long n = 1UL << order;

    /* The guest may have dropped its last mapping without a flush: a CPU running it
     * could still reach the frame, which must not happen once someone else owns it. */
    if (d->state != DOMST_dying)
        flush_domain_tlbs(d);

    spin_lock(&d->page_lock);
    for (unsigned long i = 0; i < n; i++) {
        list_del(&pg[i].list);
        pg[i].u.owner = NULL;
        pg[i].count_info = 0;
        pg[i].type_info = 0;
        set_gpfn_from_mfn(page_to_mfn(&pg[i]), M2P_INVALID); /* no guest frame any more */
    }
    d->tot_pages -= n;
    spin_unlock(&d->page_lock);
    free_heap_pages(pg, order, true);
}

int steal_domheap_page(struct domain *d, struct page_info *pg)
{
    unsigned long x = __atomic_load_n(&pg->count_info, __ATOMIC_ACQUIRE);

    /* Only the allocation reference may be held, and no type at all. */
    do {
        if (pg->u.owner != d || (x & (PGC_count_mask | PGC_allocated | PGC_xenheap)) !=
                                    (PGC_allocated | 1))
            return -EINVAL;
    } while (!__atomic_compare_exchange_n(&pg->count_info, &x,
                                          x & ~(PGC_count_mask | PGC_allocated), false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    /* With no references left nobody can start using it: it is ours now. */
    if (pg->type_info & (PGT_count_mask | PGT_pinned)) {
        __atomic_fetch_or(&pg->count_info, PGC_allocated | 1, __ATOMIC_RELEASE);
        return -EINVAL;
    }
    spin_lock(&d->page_lock);
    pg->type_info = 0;
    pg->u.owner = NULL;
    list_del(&pg->list);
    spin_unlock(&d->page_lock);
    return 0;
}

void assign_domheap_pages(struct domain *d, struct page_info *pg, unsigned int order)
{
    spin_lock(&d->page_lock);
    for (unsigned long i = 0; i < (1UL << order); i++) {
        pg[i].u.owner = d;
        pg[i].type_info = 0;
        pg[i].count_info = PGC_allocated | 1;
        list_add_tail(&pg[i].list, &d->page_list);
    }
    spin_unlock(&d->page_lock);
}

void free_stolen_page(struct page_info *pg)
{
    set_gpfn_from_mfn(page_to_mfn(pg), M2P_INVALID);
    pg->count_info = 0;
    free_heap_pages(pg, 0, true);
}

bool put_page_alloc_ref(struct page_info *pg)
{
    if (!(__atomic_fetch_and(&pg->count_info, ~PGC_allocated, __ATOMIC_ACQ_REL) & PGC_allocated))
        return false;
    put_page(pg);
    return true;
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
    enum domain_state running = DOMST_running;

    /* Two vCPUs may shut the domain down at once: the first one's reason stands. */
    if (!__atomic_compare_exchange_n(&d->state, &running, DOMST_shutdown, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    d->shutdown_code = reason;
    /* What the domain wrote before it stopped comes out before the news that it did. */
    guest_console_flush(d);
    printk("domain %u (%s): shut down, reason %s (%u)\n", d->domain_id, d->name,
           shutdown_reason_name(reason), reason);
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i])
            vcpu_set_pause_flag(d->vcpu[i], VPF_paused);
    if (reaper_ready)
        set_timer(&reaper, NOW() + REAP_DELAY);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    va_list ap;

    if (d->state != DOMST_running)
        return;
    printk(LOG_ERR "domain %u (%s) crashed: ", d->domain_id, d->name);
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    domain_shutdown(d, SHUTDOWN_crash);
}

/*
 * Give every frame back: arch code first drops what vCPUs and pinned tables hold, then
 * each allocation reference goes, freeing the frame unless something still maps it
 * (which, with no sharing between domains yet, would be a bug: it is reported).
 */
static void relinquish_memory(struct domain *d)
{
    struct page_info *pg;
    LIST_HEAD(held);
    unsigned long nr_held = 0;

    /* Frames given back while still mapped get their allocation reference again, so
     * that nothing is freed under arch_domain_relinquish's feet. */
    spin_lock(&d->page_lock);
    list_for_each_entry(pg, &d->page_list, list)
        if (!(pg->count_info & PGC_allocated))
            __atomic_fetch_add(&pg->count_info, PGC_allocated | 1, __ATOMIC_ACQ_REL);
    spin_unlock(&d->page_lock);

    arch_domain_relinquish(d);

    spin_lock(&d->page_lock);
    while (!list_empty(&d->page_list)) {
        pg = list_first_entry(&d->page_list, struct page_info, list);
        if (!(pg->count_info & PGC_allocated)) {
            list_del(&pg->list);
            list_add_tail(&pg->list, &held);
            nr_held++;
            continue;
        }
        spin_unlock(&d->page_lock);
        put_page_alloc_ref(pg);
        spin_lock(&d->page_lock);
    }
    spin_unlock(&d->page_lock);
    if (nr_held) {
        pg = list_first_entry(&held, struct page_info, list);
        printk(LOG_ERR "domain %u: %lu frames still referenced after teardown (mfn %#lx: "
               "count %#lx type %#lx); they stay out of the allocator\n", d->domain_id,
               nr_held, mfn_x(page_to_mfn(pg)), pg->count_info, pg->type_info);
        list_for_each_entry(pg, &held, list)
            pg->u.owner = NULL; /* any later get_page on them fails */
    }
}

/* Tear down a domain that is off the domain list and whose vCPUs are all off CPU. */
static void destroy_unlisted(struct domain *d)
{
    unsigned long before = d->tot_pages;
    bool rebooted = d->state == DOMST_shutdown && d->shutdown_code == SHUTDOWN_reboot;

    guest_console_flush(d);
    d->state = DOMST_dying;
    evtchn_destroy(d); /* before vCPUs and shared_info go: peers and poll timers point here */
    /* No CPU runs d any more; drop what their TLBs still hold of it (global entries
     * included) before its frames can go to anyone else. */
    flush_tlb_mask(&cpu_online_map);
    relinquish_memory(d);
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        if (d->vcpu[i]) {
            vcpu_timer_destroy(d->vcpu[i]);
            arch_vcpu_destroy(d->vcpu[i]);
            xfree(d->vcpu[i]);
        }
    }
    arch_domain_destroy(d);
    xfree(d->e820);
    printk("domain %u (%s): destroyed, %lu of its %lu pages freed\n", d->domain_id, d->name,
           before - d->tot_pages, before);
    if (rebooted && d->restart_on_reboot && d->boot_module >= 0)
        boot_domain_rebooted(d);
    xfree(d);
    if (list_empty(&domain_list))
        printk("no domains left: %lu heap pages free\n", heap_free_pages());
}

void domain_destroy(struct domain *d)
{
    spin_lock(&domain_list_lock);
    list_del(&d->list);
    spin_unlock(&domain_list_lock);
    destroy_unlisted(d);
}

static bool domain_is_quiet(const struct domain *d)
{
    if (__atomic_load_n(&d->refcnt, __ATOMIC_ACQUIRE) != 1)
        return false;
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i] && (READ_ONCE(d->vcpu[i]->is_running) ||
                           __atomic_load_n(&d->vcpu[i]->on_cpu, __ATOMIC_ACQUIRE)))
            return false;
    return true;
}

/* Timer: destroy each shut-down domain that has gone quiet; look again later if any
 * has not yet. */
static void reap_domains(void *data)
{
    struct domain *d, *victim;
    bool waiting;

    (void)data;
    do {
        victim = NULL;
        waiting = false;
        spin_lock(&domain_list_lock);
        list_for_each_entry(d, &domain_list, list) {
            if (d->state != DOMST_shutdown)
                continue;
            if (!domain_is_quiet(d)) {
                waiting = true;
                continue;
            }
            list_del(&d->list);
            victim = d;
            break;
        }
        spin_unlock(&domain_list_lock);
        if (victim)
            destroy_unlisted(victim);
    } while (victim);
    if (waiting)
        set_timer(&reaper, NOW() + MILLISECS(1));
}

/* For the 'm' key: each domain's frames by type, so a leak or a stuck type shows. */
void domain_dump_memory(void)
{
    static const char *const names[8] = { "untyped", "L1", "L2", "L3", "L4", "segdesc",
                                          "?", "writable" };
    struct domain *d;

    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list) {
        unsigned long n[8] = { 0 }, pinned = 0, given_back = 0;
        struct page_info *pg;

        spin_lock(&d->page_lock);
        list_for_each_entry(pg, &d->page_list, list) {
            unsigned long t = pg->type_info;
            n[(t & PGT_count_mask) ? (t & PGT_type_mask) >> PGT_type_shift : 0]++;
            pinned += !!(t & PGT_pinned);
            given_back += !(pg->count_info & PGC_allocated);
        }
        spin_unlock(&d->page_lock);
        printk("domain %u (%s): %lu of %lu pages;", d->domain_id, d->name, d->tot_pages,
               d->max_pages);
        for (unsigned int i = 0; i < 8; i++)
            if (n[i])
                printk(" %s %lu", names[i], n[i]);
        printk("; %lu pinned, %lu given back but still mapped\n", pinned, given_back);
    }
    spin_unlock(&domain_list_lock);
}
