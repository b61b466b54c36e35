/*
 * Domains: creation, memory ownership, shutdown and destruction.
 *
 * Every frame a domain owns is on its page_list with u.owner pointing at it, and counted
 * in tot_pages, which never exceeds max_pages. When the domain is destroyed each frame
 * goes back to the allocator marked for scrubbing, so no data leaks to the next owner.
 */
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/time.h>
#include <enso/xmalloc.h>

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

struct domain *domain_by_id(domid_t id)
{
    struct domain *d, *found = NULL;

    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list) {
        if (d->domain_id == id) {
            found = d;
            break;
        }
    }
    spin_unlock(&domain_list_lock);
    return found;
}

struct domain *domain_create(domid_t id, const char *name, bool privileged,
                             unsigned long max_pages, int *err)
{
    struct domain *d;

    if (id >= DOMID_FIRST_RESERVED || domain_by_id(id)) {
        *err = -EEXIST;
        return NULL;
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
    spin_lock_init(&d->page_lock);
    list_init(&d->page_list);
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
    if (d->tot_pages + n > d->max_pages) {
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
            pg[i].count_info = 1; /* the allocation reference */
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

    spin_lock(&d->page_lock);
    for (unsigned long i = 0; i < n; i++) {
        list_del(&pg[i].list);
        pg[i].u.owner = NULL;
        pg[i].count_info = 0;
        pg[i].type_info = 0;
    }
    d->tot_pages -= n;
    spin_unlock(&d->page_lock);
    free_heap_pages(pg, order, true);
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
    if (d->state != DOMST_running)
        return;
    d->state = DOMST_shutdown;
    d->shutdown_code = reason;
    printk("domain %u (%s): shut down, reason %s (%u)\n", d->domain_id, d->name,
           shutdown_reason_name(reason), reason);
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i])
            vcpu_set_pause_flag(d->vcpu[i], VPF_paused);
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

void domain_destroy(struct domain *d)
{
    struct page_info *pg;

    d->state = DOMST_dying;
    spin_lock(&domain_list_lock);
    list_del(&d->list);
    spin_unlock(&domain_list_lock);
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        if (d->vcpu[i]) {
            arch_vcpu_destroy(d->vcpu[i]);
            xfree(d->vcpu[i]);
        }
    }
    arch_domain_destroy(d);
    while (!list_empty(&d->page_list)) {
        pg = list_first_entry(&d->page_list, struct page_info, list);
        free_domheap_pages(pg, 0);
    }
    xfree(d);
}
