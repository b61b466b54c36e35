/*
 * memory_op: how a guest learns about and changes its memory (the balloon driver's
 * interface), with Xen 4.17's rules for a PV domain, whose "guest frames" in these
 * calls are machine frames (it manages its own pfn -> mfn map):
 *  - increase_reservation hands out frames and reports their MFNs;
 *  - populate_physmap does the same for given pfns and records them in the M2P;
 *  - decrease_reservation gives frames back: the allocation reference goes, and the
 *    frame returns to the pool once nothing maps it any more;
 *  - exchange swaps frames for others (of another size or address width).
 * The reservation calls return how many extents were done; they stop at the first one
 * that fails, and when preempted they continue with the count in the command's upper
 * bits (cmd = op | done << MEMOP_EXTENT_SHIFT), as on Xen.
 * The queries (reservations, the M2P's place and frames, memory maps) are answered as
 * Xen answers them; the sub-ops of features a PV domain cannot have here (physmap,
 * populate-on-demand, access rights, virtual NUMA, IOMMU ranges) get Xen's refusals.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/sched.h>
#include <enso/xmalloc.h>
#include <asm/layout.h>
#include <asm/m2p.h>
#include <asm/mm.h>
#include <public/memory.h>

#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1U << MEMOP_EXTENT_SHIFT) - 1)
#define NUMA_NO_NODE 0xffU
#define MAX_NUMNODES 64
#define E820_MAX 1024
#define DOMU_MAX_ORDER 9 /* a 2 MiB extent; the privileged domain may use any order */
#define M2P_EXTENT (1UL << 21) /* machphys_mfn_list reports a frame per 2 MiB */

static unsigned int max_extent_order(const struct domain *d)
{
    return d->is_privileged ? MAX_ORDER : DOMU_MAX_ORDER;
}

/* The domain a call names, referenced; the caller must be it or privileged. */
static struct domain *target_domain(domid_t id, long *err)
{
    struct domain *cd = current->domain, *d;

    if (id == DOMID_SELF)
        id = cd->domain_id;
    d = get_domain_by_id(id);
    if (!d) {
        *err = -ESRCH;
        return NULL;
    }
    if (d != cd && !cd->is_privileged) {
        put_domain(d);
        *err = -EPERM;
        return NULL;
    }
    return d;
}

struct memop {
    struct domain *d;
    uint64_t list;           /* guest array of xen_pfn_t */
    unsigned long nr_extents;
    unsigned int order;
    unsigned int memflags;
    bool pod;                /* XENMEMF_populate_on_demand */
    unsigned long done;
    bool preempted;
};

/* The address-width and NUMA requests of mem_flags; false if refused. */
static bool memflags_from_guest(uint32_t xmf, unsigned int *memflags)
{
    unsigned int bits = XENMEMF_get_address_bits(xmf);
    unsigned int node = XENMEMF_get_node(xmf);

    *memflags = 0;
    if (bits && bits < 64) {
        if (bits <= PAGE_SHIFT)
            return false;
        *memflags = MEMF_bits(bits);
    }
    if (xmf & XENMEMF_vnode)
        return true; /* no virtual NUMA topology: the request is ignored */
    if (node == NUMA_NO_NODE)
        return true;
    /* One memory node: a valid node is honoured trivially by the privileged domain. */
    if (current->domain->is_privileged)
        return node < MAX_NUMNODES;
    return !(xmf & XENMEMF_exact_node_request);
}

static bool extents_ok(const struct memop *a)
{
    return guest_range_ok(a->list + a->done * sizeof(xen_pfn_t),
                          (a->nr_extents - a->done) * sizeof(xen_pfn_t));
}

static bool stop_for_preemption(struct memop *a, unsigned long i)
{
    if (i != a->done && hypercall_preempt_check()) {
        a->preempted = true;
        return true;
    }
    return false;
}

static void increase_reservation(struct memop *a)
{
    unsigned long i;

    if ((a->list && !extents_ok(a)) || a->order > max_extent_order(current->domain))
        return;
    for (i = a->done; i < a->nr_extents; i++) {
        struct page_info *pg;
        xen_pfn_t mfn;

        if (stop_for_preemption(a, i))
            break;
        pg = alloc_domheap_pages(a->d, a->order, a->memflags);
        if (!pg)
            break;
        mfn = mfn_x(page_to_mfn(pg));
        if (a->list && copy_to_guest(a->list + i * sizeof(mfn), &mfn, sizeof(mfn)))
            break;
    }
    a->done = i;
}

static void populate_physmap(struct memop *a)
{
    unsigned long i;

    if (!extents_ok(a) || a->order > (a->pod ? MAX_ORDER : max_extent_order(current->domain)))
        return;
    for (i = a->done; i < a->nr_extents; i++) {
        struct page_info *pg;
        xen_pfn_t pfn, mfn;

        if (stop_for_preemption(a, i))
            break;
        if (copy_from_guest(&pfn, a->list + i * sizeof(pfn), sizeof(pfn)))
            break;
        if (a->pod) {
            /* Populate-on-demand is for translated guests; a PV domain cannot use it
             * on itself, and for another PV domain there is nothing to record. */
            if (a->d == current->domain)
                break;
            continue;
        }
        pg = alloc_domheap_pages(a->d, a->order, a->memflags);
        if (!pg)
            break;
        mfn = mfn_x(page_to_mfn(pg));
        for (unsigned long j = 0; j < (1UL << a->order); j++)
            set_gpfn_from_mfn(_mfn(mfn + j), pfn + j);
        if (copy_to_guest(a->list + i * sizeof(mfn), &mfn, sizeof(mfn)))
            break;
    }
    a->done = i;
}

/* Give one frame back: Xen's errors are -EINVAL (no such frame), -ENXIO (not d's). */
static int remove_frame(struct domain *d, unsigned long mfn)
{
    struct page_info *pg;

    if (!mfn_valid(_mfn(mfn)))
        return -EINVAL;
    pg = mfn_to_page(_mfn(mfn));
    if (!get_page(pg, d))
        return -ENXIO;
    put_page_alloc_ref(pg);
    put_page(pg); /* frees the frame unless it is still mapped or pinned */
    return 0;
}

static void decrease_reservation(struct memop *a)
{
    unsigned long i;

    if (!extents_ok(a) || a->order > max_extent_order(current->domain))
        return;
    for (i = a->done; i < a->nr_extents; i++) {
        xen_pfn_t mfn;
        unsigned long j;

        if (stop_for_preemption(a, i))
            break;
        if (copy_from_guest(&mfn, a->list + i * sizeof(mfn), sizeof(mfn)))
            break;
        for (j = 0; j < (1UL << a->order); j++)
            if (remove_frame(a->d, mfn + j))
                break;
        if (j != (1UL << a->order))
            break;
    }
    a->done = i;
}

static long reservation_op(unsigned int op, unsigned long start, hc_arg_t arg)
{
    struct xen_memory_reservation r;
    struct memop a = { 0 };
    long err;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return (long)start;
    if (r.nr_extents > (0xffffffffUL >> MEMOP_EXTENT_SHIFT) || start >= r.nr_extents)
        return (long)start;
    a.d = target_domain(r.domid, &err);
    if (!a.d)
        return (long)start;
    if (!memflags_from_guest(r.mem_flags, &a.memflags)) {
        put_domain(a.d);
        return (long)start;
    }
    a.list = enso_guest_handle_addr(r.extent_start);
    a.nr_extents = r.nr_extents;
    a.order = r.extent_order;
    a.pod = op == XENMEM_populate_physmap && (r.mem_flags & XENMEMF_populate_on_demand);
    a.done = start;
    if (op == XENMEM_increase_reservation)
        increase_reservation(&a);
    else if (op == XENMEM_decrease_reservation)
        decrease_reservation(&a);
    else
        populate_physmap(&a);
    put_domain(a.d);
    if (a.preempted) {
        hypercall_args()[0] = op | (a.done << MEMOP_EXTENT_SHIFT);
        return -ERESTART;
    }
    return (long)a.done;
}

/* Exchange: what one chunk (the larger of an input and an output extent) moves. */
struct exchange {
    struct xen_memory_exchange x;
    struct domain *d;
    unsigned int in_chunk_order, out_chunk_order, memflags;
    struct list_head taken, given;
};

/* Take the input frames of chunk i off the domain; they must be plain, unused frames. */
static long take_inputs(struct exchange *e, unsigned long i)
{
    for (unsigned long j = 0; j < (1UL << e->in_chunk_order); j++) {
        xen_pfn_t mfn;
        uint64_t at = enso_guest_handle_addr(e->x.in.extent_start) +
                      ((i << e->in_chunk_order) + j) * sizeof(mfn);

        if (copy_from_guest(&mfn, at, sizeof(mfn)))
            return -EFAULT;
        for (unsigned long k = 0; k < (1UL << e->x.in.extent_order); k++) {
            struct page_info *pg;
            if (!mfn_valid(_mfn(mfn + k)))
                return -EINVAL;
            pg = mfn_to_page(_mfn(mfn + k));
            if (steal_domheap_page(e->d, pg))
                return -EINVAL;
            list_add_tail(&pg->list, &e->taken);
        }
    }
    return 0;
}

static long alloc_outputs(struct exchange *e)
{
    for (unsigned long j = 0; j < (1UL << e->out_chunk_order); j++) {
        struct page_info *pg = alloc_heap_pages(e->x.out.extent_order, e->memflags);
        if (!pg)
            return -ENOMEM;
        list_add_tail(&pg->list, &e->given);
    }
    return 0;
}

/* The chunk cannot fail any more: free the inputs, hand the outputs to the domain. */
static long commit_chunk(struct exchange *e, unsigned long i)
{
    struct page_info *pg, *next;
    unsigned int order = e->x.out.extent_order;
    unsigned long j = 0;
    long rc = 0;

    list_for_each_entry_safe(pg, next, &e->taken, list) {
        list_del(&pg->list);
        free_stolen_page(pg);
    }
    list_for_each_entry_safe(pg, next, &e->given, list) {
        uint64_t at = enso_guest_handle_addr(e->x.out.extent_start) +
                      ((i << e->out_chunk_order) + j++) * sizeof(xen_pfn_t);
        xen_pfn_t pfn, mfn = mfn_x(page_to_mfn(pg));

        list_del(&pg->list);
        assign_domheap_pages(e->d, pg, order);
        if (copy_from_guest(&pfn, at, sizeof(pfn))) {
            rc = -EFAULT;
            continue;
        }
        for (unsigned long k = 0; k < (1UL << order); k++)
            set_gpfn_from_mfn(_mfn(mfn + k), pfn + k);
        if (copy_to_guest(at, &mfn, sizeof(mfn)))
            rc = -EFAULT;
    }
    return rc;
}

/* A chunk failed: the inputs go back to the domain, the outputs to the pool. */
static void undo_chunk(struct exchange *e)
{
    struct page_info *pg, *next;

    list_for_each_entry_safe(pg, next, &e->taken, list) {
        list_del(&pg->list);
        assign_domheap_pages(e->d, pg, 0);
    }
    list_for_each_entry_safe(pg, next, &e->given, list) {
        list_del(&pg->list);
        free_heap_pages(pg, e->x.out.extent_order, false);
    }
}

static long exchange_checks(struct exchange *e)
{
    const struct xen_memory_reservation *in = &e->x.in, *out = &e->x.out;
    unsigned long first;

    if (MAX(in->extent_order, out->extent_order) > max_extent_order(current->domain))
        return -EPERM;
    if (e->x.nr_exchanged > in->nr_extents || in->domid != out->domid ||
        (~0UL >> in->extent_order) < in->nr_extents ||
        (~0UL >> out->extent_order) < out->nr_extents ||
        (in->nr_extents << in->extent_order) != (out->nr_extents << out->extent_order))
        return -EINVAL;
    if (e->x.nr_exchanged == in->nr_extents)
        return 1;
    if (!guest_range_ok(enso_guest_handle_addr(in->extent_start) + e->x.nr_exchanged * 8,
                        (in->nr_extents - e->x.nr_exchanged) * 8))
        return -EFAULT;
    if (in->extent_order <= out->extent_order) {
        e->in_chunk_order = out->extent_order - in->extent_order;
        first = e->x.nr_exchanged >> e->in_chunk_order;
    } else {
        e->out_chunk_order = in->extent_order - out->extent_order;
        first = e->x.nr_exchanged << e->out_chunk_order;
    }
    if (!guest_range_ok(enso_guest_handle_addr(out->extent_start) + first * 8,
                        (out->nr_extents - first) * 8))
        return -EFAULT;
    if (!memflags_from_guest(out->mem_flags, &e->memflags))
        return -EINVAL;
    return 0;
}

static long memory_exchange(hc_arg_t arg)
{
    struct exchange e = { 0 };
    unsigned long i, end;
    long rc;

    list_init(&e.taken);
    list_init(&e.given);
    if (copy_from_guest(&e.x, arg, sizeof(e.x)))
        return -EFAULT;
    rc = exchange_checks(&e);
    if (rc > 0)
        return 0; /* nothing left to exchange */
    if (rc == 0)
        e.d = target_domain(e.x.in.domid, &rc);
    i = e.x.nr_exchanged >> e.in_chunk_order;
    end = e.x.in.nr_extents >> e.in_chunk_order;
    for (; rc == 0 && i < end; i++) {
        if (i != (e.x.nr_exchanged >> e.in_chunk_order) && hypercall_preempt_check()) {
            e.x.nr_exchanged = i << e.in_chunk_order;
            put_domain(e.d);
            if (copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged),
                              &e.x.nr_exchanged, sizeof(e.x.nr_exchanged)))
                return -EFAULT;
            return -ERESTART;
        }
        rc = take_inputs(&e, i);
        if (!rc)
            rc = alloc_outputs(&e);
        if (rc) {
            undo_chunk(&e);
            break;
        }
        rc = commit_chunk(&e, i);
        if (rc)
            break; /* exchanged, but not reported: Xen leaves it uncounted too */
    }
    if (e.d) {
        put_domain(e.d);
        e.x.nr_exchanged = i << e.in_chunk_order;
    }
    if (copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged),
                      &e.x.nr_exchanged, sizeof(e.x.nr_exchanged)))
        rc = -EFAULT;
    return rc;
}

static long reservation_query(unsigned int op, hc_arg_t arg)
{
    struct xen_memory_domain q;
    struct domain *d;
    long rc;

    if (copy_from_guest(&q, arg, sizeof(q)))
        return -EFAULT;
    d = target_domain(q.domid, &rc);
    if (!d)
        return rc;
    if (op == XENMEM_current_reservation)
        rc = (long)d->tot_pages;
    else if (op == XENMEM_maximum_reservation)
        rc = (long)d->max_pages;
    else /* maximum_gpfn: a PV guest states its p2m size, not its highest pfn */
        rc = (long)(d->shared_info && d->shared_info->arch.max_pfn
                        ? d->shared_info->arch.max_pfn - 1 : 0);
    put_domain(d);
    return rc;
}

static long machphys_mapping(hc_arg_t arg)
{
    struct xen_machphys_mapping m = {
        .v_start = RO_MPT_VIRT_START,
        .v_end = RO_MPT_VIRT_END,
        .max_mfn = (RO_MPT_VIRT_END - RO_MPT_VIRT_START) / sizeof(unsigned long) - 1,
    };

    if (current->domain->is_privileged)
        m.max_mfn = max_page - 1; /* the hardware domain sees the real extent */
    return copy_to_guest(arg, &m, sizeof(m)) ? -EFAULT : 0;
}

/* The guest's own memory map, if one with entries was set (else -ENOSYS, as Xen). */
static long memory_map(hc_arg_t arg)
{
    struct xen_memory_map m;
    struct domain *d = current->domain;
    long rc = 0;

    if (copy_from_guest(&m, arg, sizeof(m)))
        return -EFAULT;
    spin_lock(&d->page_lock);
    if (!d->e820 || !d->nr_e820) {
        rc = -ENOSYS;
    } else {
        m.nr_entries = MIN(m.nr_entries, d->nr_e820);
        if (copy_to_guest(enso_guest_handle_addr(m.buffer), d->e820,
                          m.nr_entries * sizeof(*d->e820)) ||
            copy_to_guest(arg, &m, sizeof(m)))
            rc = -EFAULT;
    }
    spin_unlock(&d->page_lock);
    return rc;
}

static long set_memory_map(hc_arg_t arg)
{
    struct xen_foreign_memory_map f;
    struct xen_e820_entry *map, *old;
    struct domain *d;
    long rc;

    if (copy_from_guest(&f, arg, sizeof(f)))
        return -EFAULT;
    if (f.map.nr_entries > E820_MAX)
        return -EINVAL;
    d = target_domain(f.domid, &rc);
    if (!d)
        return rc;
    map = xmalloc_bytes(MAX(f.map.nr_entries, 1U) * sizeof(*map));
    if (!map) {
        put_domain(d);
        return -ENOMEM;
    }
    if (copy_from_guest(map, enso_guest_handle_addr(f.map.buffer),
                        f.map.nr_entries * sizeof(*map))) {
        xfree(map);
        put_domain(d);
        return -EFAULT;
    }
    spin_lock(&d->page_lock);
    old = d->e820;
    d->e820 = map;
    d->nr_e820 = f.map.nr_entries;
    spin_unlock(&d->page_lock);
    xfree(old);
    put_domain(d);
    return 0;
}

/*
 * The M2P's machine frames, one per 2 MiB of the table (the extents m2p_init allocates),
 * as many as max_extents has room for; nr_extents says how many were written. As Xen's
 * subarch_memory_op: no privilege needed, and a frame that cannot be written stops the
 * call with -EFAULT (those before it stay written, nr_extents is not).
 */
static long machphys_mfn_list(hc_arg_t arg)
{
    struct xen_machphys_mfn_list l;
    unsigned long extents = ROUNDUP(max_page * sizeof(unsigned long), M2P_EXTENT) / M2P_EXTENT;
    uint64_t list;
    unsigned int i;

    if (copy_from_guest(&l, arg, sizeof(l)))
        return -EFAULT;
    list = enso_guest_handle_addr(l.extent_start);
    for (i = 0; i != l.max_extents && i < extents; i++) {
        paddr_t pa;
        pgentry_t leaf;
        xen_pfn_t mfn;

        /* The writable M2P is in the L4 slots every page table shares. */
        if (!mm_lookup(RDWR_MPT_VIRT_START + (uint64_t)i * M2P_EXTENT, &pa, &leaf))
            break;
        mfn = pa >> PAGE_SHIFT;
        if (copy_to_guest(list + (uint64_t)i * sizeof(mfn), &mfn, sizeof(mfn)))
            return -EFAULT;
    }
    l.nr_extents = i;
    return copy_to_guest(arg, &l, sizeof(l)) ? -EFAULT : 0;
}

/* Any domain by id, DOMID_SELF included, referenced; nothing about permission yet. */
static struct domain *any_domain(domid_t id)
{
    return get_domain_by_id(id == DOMID_SELF ? current->domain->domain_id : id);
}

/* Another domain by its number (not DOMID_SELF): -ESRCH if none, -EPERM for oneself. */
static long remote_domain(domid_t id)
{
    struct domain *d = get_domain_by_id(id);
    bool self = d == current->domain;

    if (!d)
        return -ESRCH;
    put_domain(d);
    return self ? -EPERM : 0;
}

/*
 * A physmap is what a translated guest has instead of a p2m list of its own; a PV
 * domain has none to change. Xen's xatp_permission_check (add_to_physmap and its
 * batch form) and do_memory_op's remove_from_physmap refuse it with -EACCES once the
 * domain is known to exist, whoever asks.
 */
static long physmap_refusal(domid_t id)
{
    struct domain *d = any_domain(id);

    if (!d)
        return -ESRCH;
    put_domain(d);
    return -EACCES;
}

/* A continuation count above the 16-bit size field is refused (Xen: -EDOM). */
#define PHYSMAP_MAX_START 0xffffUL

static long add_to_physmap(unsigned long start, hc_arg_t arg)
{
    struct xen_add_to_physmap x;

    if (start > PHYSMAP_MAX_START)
        return -EDOM;
    if (copy_from_guest(&x, arg, sizeof(x)))
        return -EFAULT;
    if (x.space == XENMAPSPACE_gmfn_foreign) /* only the batch form maps these */
        return -ENOSYS;
    return physmap_refusal(x.domid);
}

static long add_to_physmap_batch(unsigned long start, hc_arg_t arg)
{
    struct xen_add_to_physmap_batch b;

    if (start > PHYSMAP_MAX_START)
        return -EDOM;
    if (copy_from_guest(&b, arg, sizeof(b)))
        return -EFAULT;
    if (b.space == XENMAPSPACE_gmfn_range) /* only the single form takes ranges */
        return -EOPNOTSUPP;
    return physmap_refusal(b.domid);
}

static long remove_from_physmap(hc_arg_t arg)
{
    struct xen_remove_from_physmap r;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return -EFAULT;
    return physmap_refusal(r.domid);
}

/* set/get_pod_target (Xen's arch_memory_op): populate-on-demand is for HVM domains, so
 * an existing PV domain is -EINVAL, before any permission check. */
static long pod_target(hc_arg_t arg)
{
    struct xen_pod_target t;
    struct domain *d;

    if (copy_from_guest(&t, arg, sizeof(t)))
        return -EFAULT;
    d = any_domain(t.domid);
    if (!d)
        return -ESRCH;
    put_domain(d);
    return -EINVAL;
}

/*
 * access_op (Xen's mem_access_memop): for another live domain, and only an HVM one
 * with hardware assistance, so every domain enso has is refused with -EINVAL.
 */
static long access_op(hc_arg_t arg)
{
    struct xen_mem_access_op a;
    long rc;

    if (copy_from_guest(&a, arg, sizeof(a)))
        return -EFAULT;
    rc = remote_domain(a.domid);
    return rc ? rc : -EINVAL;
}

/*
 * claim_pages, as Xen's do_memory_op checks it (domain_set_outstanding_pages does the
 * claim): only the pages count may be set, the
 * domain is named by number (DOMID_SELF is no domain here), and only the control
 * domain may claim. Claims themselves are not implemented: -ENOSYS for it, which
 * libxc takes as "no claims".
 */
static long claim_pages(hc_arg_t arg)
{
    struct xen_memory_reservation r;
    struct domain *d;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return -EFAULT;
    if (!enso_guest_handle_is_null(r.extent_start) || r.extent_order || r.mem_flags)
        return -EINVAL;
    d = get_domain_by_id(r.domid);
    if (!d)
        return -EINVAL;
    put_domain(d);
    return current->domain->is_privileged ? -ENOSYS : -EPERM;
}

/*
 * get_vnumainfo (Xen's do_memory_op): after the pad and the permission checks (the
 * domain itself or the control domain), -EOPNOTSUPP: no domain here has a virtual
 * NUMA layout (Xen's PV domains have one only if their toolstack set one).
 */
static long get_vnumainfo(hc_arg_t arg)
{
    struct xen_vnuma_topology_info t;
    struct domain *d;
    bool allowed;

    if (copy_from_guest(&t, arg, sizeof(t)))
        return -EFAULT;
    if (t.pad)
        return -EINVAL;
    d = any_domain(t.domid);
    if (!d)
        return -ESRCH;
    allowed = d == current->domain || current->domain->is_privileged;
    put_domain(d);
    return allowed ? -EOPNOTSUPP : -EPERM;
}

/*
 * reserved_device_memory_map (Xen's do_memory_op and iommu_get_reserved_device_memory):
 * the ranges an IOMMU keeps for devices. enso drives no IOMMU, and Xen with its IOMMU
 * off reports none: success, nr_entries 0, for any domain. Like Xen's
 * guest_handle_okay, only where the buffer starts is checked (nothing is written to it).
 */
static long reserved_device_memory_map(hc_arg_t arg)
{
    struct xen_reserved_device_memory_map m;
    uint64_t buf;

    if (copy_from_guest(&m, arg, sizeof(m)))
        return -EFAULT;
    buf = enso_guest_handle_addr(m.buffer);
    if (buf >= (1UL << 47) && buf < HYPERVISOR_VIRT_END) /* not canonical, or enso's */
        return -EFAULT;
    if (m.flags & ~XENMEM_RDM_ALL)
        return -EINVAL;
    m.nr_entries = 0;
    return copy_to_guest(arg, &m, sizeof(m)) ? -EFAULT : 0;
}

/*
 * acquire_resource (Xen's acquire_resource): a resource of another domain, for its
 * device model or the control domain. The argument checks and those refusals are
 * Xen's; the mapping itself (grant table, ioreq server frames) is not implemented:
 * -ENOSYS for the control domain.
 */
static long acquire_resource(hc_arg_t arg)
{
    struct xen_mem_acquire_resource r;
    long rc;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return -EFAULT;
    if (r.pad || (r.frame >> 32) || ((r.frame + r.nr_frames) >> 32))
        return -EINVAL;
    rc = remote_domain(r.domid);
    if (rc)
        return rc;
    return current->domain->is_privileged ? -ENOSYS : -EPERM; /* enso has no device models */
}

/* Xen's common code refuses a continuation count for these with -EINVAL. */
static bool refuses_continuation(unsigned int op)
{
    switch (op) {
    case XENMEM_exchange:
    case XENMEM_maximum_ram_page:
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
    case XENMEM_remove_from_physmap:
    case XENMEM_claim_pages:
    case XENMEM_get_vnumainfo:
    case XENMEM_reserved_device_memory_map:
        return true;
    default:
        return false;
    }
}

long do_memory_op(hc_arg_t cmd, hc_arg_t arg)
{
    unsigned int op = cmd & MEMOP_CMD_MASK;
    unsigned long start = cmd >> MEMOP_EXTENT_SHIFT;

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation_op(op, start, arg);
    case XENMEM_add_to_physmap:
        return add_to_physmap(start, arg);
    case XENMEM_add_to_physmap_batch:
        return add_to_physmap_batch(start, arg);
    case XENMEM_access_op:
        return access_op(arg);
    case XENMEM_acquire_resource:
        return acquire_resource(arg);
    }
    /* The rest never continue. Xen's x86 code switches on the whole command, so there
     * a count makes the command unknown. */
    if (start)
        return refuses_continuation(op) ? -EINVAL : -ENOSYS;
    switch (op) {
    case XENMEM_exchange:
        return memory_exchange(arg);
    case XENMEM_maximum_ram_page:
        return (long)max_page;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return reservation_query(op, arg);
    case XENMEM_machphys_mfn_list:
        return machphys_mfn_list(arg);
    case XENMEM_machphys_mapping:
        return machphys_mapping(arg);
    case XENMEM_memory_map:
        return memory_map(arg);
    case XENMEM_set_memory_map:
        return set_memory_map(arg);
    case XENMEM_remove_from_physmap:
        return remove_from_physmap(arg);
    case XENMEM_set_pod_target:
    case XENMEM_get_pod_target:
        return pod_target(arg);
    case XENMEM_get_sharing_freed_pages:
    case XENMEM_get_sharing_shared_pages:
        return 0; /* Xen's subarch_memory_op without memory sharing: none saved, none shared */
    case XENMEM_claim_pages:
        return claim_pages(arg);
    case XENMEM_machphys_compat_mfn_list:
        return -EOPNOTSUPP; /* Xen's subarch_memory_op without 32-bit PV (Debian's build) */
    case XENMEM_get_vnumainfo:
        return get_vnumainfo(arg);
    case XENMEM_reserved_device_memory_map:
        return reserved_device_memory_map(arg);
    default:
        return -ENOSYS; /* machine_memory_map, paging_op, sharing_op among them */
    }
}
