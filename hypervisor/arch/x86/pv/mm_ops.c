/*
 * The memory-management hypercalls of PV guests: mmu_update, update_va_mapping and
 * mmuext_op. Every change to a page table in use goes through mod_pt_entry, which
 * validates it (page_types.c). Batches report how many entries were done, and are
 * continued (-ERESTART) when other work waits on this CPU.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <asm/m2p.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>
#include <asm/tlb_clock.h>
#include <public/xen.h>

#define MMU_UPDATE_PREEMPTED (1U << 31)   /* internal: count of a continued batch */

static struct page_info *owned_page(struct domain *d, unsigned long mfn)
{
    struct page_info *pg;

    if (!mfn_valid(_mfn(mfn)))
        return NULL;
    pg = mfn_to_page(_mfn(mfn));
    return get_page(pg, d) ? pg : NULL;
}

/*
 * Whose frames a batch works on: the page tables' owner (pt_owner) and the owner of the
 * frames new L1 entries map (pg_owner). Both are the caller's domain unless a
 * privileged caller names others, which is how a control domain builds or maps a guest.
 */
struct batch {
    struct vcpu *v;
    struct domain *pt_owner, *pg_owner;
};

/* A write to the entry at machine address ptr: checked if the frame is a table in use. */
static int normal_pt_update(const struct batch *b, uint64_t ptr, uint64_t val,
                            bool preserve_ad)
{
    struct page_info *pg = owned_page(b->pt_owner, ptr >> PAGE_SHIFT);
    pgentry_t *slot;
    unsigned long type;
    int rc;

    if (!pg)
        return -EINVAL;
    slot = (pgentry_t *)((char *)page_to_virt(pg) + (ptr & (PAGE_SIZE - 1) & ~7UL));
    type = __atomic_load_n(&pg->type_info, __ATOMIC_ACQUIRE);
    if ((type & PGT_type_mask) >= PGT_l1_page_table &&
        (type & PGT_type_mask) <= PGT_l4_page_table && (type & PGT_count_mask)) {
        unsigned int level = (unsigned int)((type & PGT_type_mask) >> PGT_type_shift);
        /* Hold the type so the table stays one while the entry changes. */
        rc = get_page_type(pg, type & PGT_type_mask);
        if (!rc) {
            rc = mod_pt_entry_as(slot, val, level, b->pt_owner, b->pg_owner, preserve_ad);
            put_page_type(pg);
        }
    } else {
        rc = get_page_type(pg, PGT_writable_page);
        if (!rc) {
            __atomic_store_n(slot, val, __ATOMIC_RELEASE);
            put_page_type(pg);
        }
    }
    put_page(pg);
    return rc;
}

static int machphys_update(struct domain *d, uint64_t ptr, uint64_t val)
{
    struct page_info *pg = owned_page(d, ptr >> PAGE_SHIFT);

    if (!pg)
        return -EINVAL;
    set_gpfn_from_mfn(page_to_mfn(pg), val);
    put_page(pg);
    return 0;
}

/*
 * The owners of I/O memory and of the hypervisor's frames, as foreign-domain arguments
 * name them. They never run and own no frame of enso's yet (no domain maps I/O memory
 * or enso's pages so far), so what they change is which checks and errnos apply.
 */
static struct domain dom_io = { .domain_id = DOMID_IO, .refcnt = 1 };
static struct domain dom_xen = { .domain_id = DOMID_XEN, .refcnt = 1 };

/*
 * Xen's get_pg_owner: DOMID_SELF is the caller; naming oneself by id is refused
 * (-ESRCH), as is an unknown domain; DOMID_IO and DOMID_XEN are the two above.
 */
static struct domain *get_pg_owner(domid_t id)
{
    struct domain *cd = current->domain, *d;

    if (id == DOMID_SELF) {
        get_domain(cd);
        return cd;
    }
    if (id == cd->domain_id)
        return NULL;
    d = id == DOMID_IO ? &dom_io : id == DOMID_XEN ? &dom_xen : NULL;
    if (d) {
        get_domain(d);
        return d;
    }
    return id >= DOMID_FIRST_RESERVED ? NULL : get_domain_by_id(id);
}

/*
 * Another domain's frames or tables: only for the privileged domain. Naming DOMID_IO
 * as the frames' owner is open to all (I/O memory has permissions of its own), as in
 * Xen's mmu_update policy; mmuext_op and update_va_mapping make no such exception.
 */
static int check_owners(const struct batch *b, bool io_open)
{
    struct domain *cd = current->domain;
    bool foreign_pages = b->pg_owner != cd && !(io_open && b->pg_owner == &dom_io);

    if ((foreign_pages || b->pt_owner != cd) && !cd->is_privileged)
        return -EPERM;
    return 0;
}

/*
 * The owners for mmu_update (foreigndom: page-table owner + 1 in bits 16-31, frame
 * owner in bits 0-15) or mmuext_op (frame owner only).
 */
static long batch_owners(struct batch *b, hc_arg_t foreigndom, bool pt_dom_allowed)
{
    unsigned int pt_dom = pt_dom_allowed ? (unsigned int)(foreigndom >> 16) & 0xffff : 0;

    b->v = current;
    b->pt_owner = current->domain;
    get_domain(b->pt_owner);
    b->pg_owner = NULL;
    if (pt_dom) {
        put_domain(b->pt_owner);
        b->pt_owner = get_domain_by_id((domid_t)(pt_dom - 1));
        if (!b->pt_owner)
            return -ESRCH;
        if (b->pt_owner != current->domain && !(b->v = b->pt_owner->vcpu[0]))
            return -EINVAL;
    }
    b->pg_owner = get_pg_owner((domid_t)foreigndom);
    return b->pg_owner ? 0 : -ESRCH;
}

static void put_batch_owners(struct batch *b)
{
    if (b->pt_owner)
        put_domain(b->pt_owner);
    if (b->pg_owner)
        put_domain(b->pg_owner);
}

/* As on Xen, a done pointer that cannot be written does not change the result. */
static long finish_batch(hc_arg_t pdone, unsigned int done, long rc)
{
    if (pdone)
        copy_to_guest(pdone, &done, sizeof(done));
    return rc;
}

/*
 * One mmu_update request: the command is in the low 3 bits of ptr, as on Xen (4-7 do
 * not exist). NO_TRANSLATE is a normal update: a PV domain's frames are machine frames.
 */
static int one_mmu_update(struct batch *b, const void *elem)
{
    const struct mmu_update *req = elem;
    int rc;

    switch (req->ptr & 7) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
    case MMU_PT_UPDATE_NO_TRANSLATE:
        if ((rc = check_owners(b, true)))
            return rc;
        return normal_pt_update(b, req->ptr, req->val,
                                (req->ptr & 7) == MMU_PT_UPDATE_PRESERVE_AD);
    case MMU_MACHPHYS_UPDATE:
        /* Xen: another domain's frames for the privileged only, never its tables. */
        if (b->pt_owner != current->domain ||
            (b->pg_owner != current->domain && !current->domain->is_privileged))
            return -EPERM;
        return machphys_update(b->pg_owner, req->ptr, req->val);
    default:
        return -ENOSYS;
    }
}

/*
 * The batch protocol shared by mmu_update and mmuext_op: requests run in order until
 * one fails; *pdone gets how many were done (including those of earlier, preempted
 * parts: a continuation carries MMU_UPDATE_PREEMPTED in count and reads pdone back).
 */
static long run_batch(hc_arg_t list, hc_arg_t count, hc_arg_t pdone, hc_arg_t foreigndom,
                      size_t size, int (*op)(struct batch *b, const void *elem))
{
    struct batch b;
    unsigned int n = (unsigned int)count, done = 0, i;
    uint64_t elem[4];
    long rc;

    BUILD_BUG_ON(sizeof(struct mmu_update) > sizeof(elem) ||
                 sizeof(struct mmuext_op) > sizeof(elem));
    if (size > sizeof(elem))
        return -EINVAL;

    if (n & MMU_UPDATE_PREEMPTED) {
        n &= ~MMU_UPDATE_PREEMPTED;
        if (pdone)
            copy_from_guest(&done, pdone, sizeof(done));
    }
    /* Xen checks where the list starts before anything else, and then writes no done. */
    if (!guest_range_ok(list, 1))
        return -EFAULT;
    rc = batch_owners(&b, foreigndom, op == one_mmu_update);
    /* mmuext_op checks the privilege up front; mmu_update per request, as Xen. */
    if (!rc && op != one_mmu_update)
        rc = check_owners(&b, false);
    if (rc) {
        put_batch_owners(&b);
        return rc;
    }
    for (i = 0; i < n; i++) {
        if (i && hypercall_preempt_check()) {
            hc_arg_t *args = hypercall_args();
            args[0] = list + i * size;
            args[1] = (n - i) | MMU_UPDATE_PREEMPTED;
            put_batch_owners(&b);
            return finish_batch(pdone, done + i, -ERESTART);
        }
        if (copy_from_guest(elem, list + i * size, size)) {
            rc = -EFAULT;
            break;
        }
        rc = op(&b, elem);
        if (rc)
            break;
    }
    put_batch_owners(&b);
    return finish_batch(pdone, done + i, rc);
}

long do_mmu_update(hc_arg_t ureqs, hc_arg_t count, hc_arg_t pdone, hc_arg_t foreigndom)
{
    return run_batch(ureqs, count, pdone, foreigndom, sizeof(struct mmu_update),
                     one_mmu_update);
}

/*
 * A guest's vCPU bitmap (one word per 64 vCPUs): read the way Xen reads it, so that a
 * bad pointer fails the same way. Which vCPUs it names does not matter here: the
 * flushes cover every CPU running the domain.
 */
static int read_vcpumask(const struct domain *d, uint64_t va)
{
    for (unsigned int bias = 0; bias < d->max_vcpus; bias += 64) {
        uint64_t word;
        if (copy_from_guest(&word, va + bias / 8, sizeof(word)))
            return -EFAULT;
    }
    return 0;
}

/*
 * The flush update_va_mapping asks for. Above the flush type, flags hold UVMF_LOCAL,
 * UVMF_ALL or the address of a vCPU bitmap; a bitmap that cannot be read fails the
 * call after the entry has changed, as on Xen.
 */
static int flush_after(struct domain *d, uint64_t va, hc_arg_t flags)
{
    hc_arg_t where = flags & ~UVMF_FLUSHTYPE_MASK;
    unsigned long type = flags & UVMF_FLUSHTYPE_MASK;

    if (type != UVMF_TLB_FLUSH && type != UVMF_INVLPG)
        return 0;
    if (where == UVMF_LOCAL) {
        if (type == UVMF_TLB_FLUSH)
            flush_tlb_local();
        else
            invlpg((void *)va);
        return 0;
    }
    if (where != UVMF_ALL && read_vcpumask(d, where))
        return -EFAULT;
    flush_domain_tlbs(d);
    return 0;
}

static long update_va_mapping(hc_arg_t va, hc_arg_t val, hc_arg_t flags,
                              struct domain *pg_owner)
{
    struct vcpu *v = current;
    pgentry_t *slot;
    mfn_t l1;
    int rc;

    if (pg_owner != v->domain && !v->domain->is_privileged)
        return -EPERM;
    /*
     * The L1 table is held while its entry changes: another vCPU may unhook it and give
     * the frame another use after the walk found it (Xen locks the page likewise).
     */
    l1 = pv_guest_l1_table(v, va);
    if (mfn_eq(l1, INVALID_MFN) || pv_get_l1_table(mfn_to_page(l1), v->domain))
        return -EINVAL;
    slot = (pgentry_t *)mfn_to_virt(l1) + pt_index(va, 1);
    rc = mod_pt_entry_as(slot, val, 1, v->domain, pg_owner, false);
    put_page_and_type(mfn_to_page(l1));
    if (!rc)
        rc = flush_after(v->domain, va, flags);
    return rc;
}

long do_update_va_mapping(hc_arg_t va, hc_arg_t val, hc_arg_t flags)
{
    return update_va_mapping(va, val, flags, current->domain);
}

/* The same, the new entry mapping a frame of domain `dom` (privileged callers). */
long do_update_va_mapping_otherdomain(hc_arg_t va, hc_arg_t val, hc_arg_t flags,
                                      hc_arg_t dom)
{
    struct domain *pg_owner = get_pg_owner((domid_t)dom);
    long rc;

    if (!pg_owner)
        return -ESRCH;
    rc = update_va_mapping(va, val, flags, pg_owner);
    put_domain(pg_owner);
    return rc;
}

int pv_new_baseptr(struct vcpu *v, unsigned long mfn, bool user)
{
    mfn_t *slot = user ? &v->arch.guest_table_user : &v->arch.guest_table;
    mfn_t old = *slot;
    struct page_info *pg = NULL;
    int rc;

    if (mfn || !user) {
        if (!mfn_valid(_mfn(mfn)))
            return -EINVAL;
        pg = mfn_to_page(_mfn(mfn));
        /* A validation error comes back as it is (-EBUSY from an L1, say), as on Xen. */
        rc = get_page_and_type(pg, v->domain, PGT_l4_page_table);
        if (rc)
            return rc;
    }
    *slot = pg ? _mfn(mfn) : INVALID_MFN;
    if (!user && !mfn_eq(old, _mfn(mfn)))
        pv_release_ldt_pages(v); /* as Xen: its address may map other frames now */
    if (v->arch.kernel_mode != user)
        load_cr3_noted(mfn_x(pv_active_table(v)) << PAGE_SHIFT);
    if (!mfn_eq(old, INVALID_MFN))
        put_page_and_type(mfn_to_page(old));
    return 0;
}

static int pin_table(struct domain *d, unsigned long mfn, unsigned int level)
{
    struct page_info *pg;
    int rc;

    if (!mfn_valid(_mfn(mfn)))
        return -EINVAL;
    pg = mfn_to_page(_mfn(mfn));
    rc = get_page_and_type(pg, d, pgt_of_level(level));
    if (rc)
        return rc;
    if (__atomic_fetch_or(&pg->type_info, PGT_pinned, __ATOMIC_ACQ_REL) & PGT_pinned) {
        put_page_and_type(pg);
        return -EINVAL;
    }
    return 0;
}

static int unpin_table(struct domain *d, unsigned long mfn)
{
    struct page_info *pg = owned_page(d, mfn);

    if (!pg)
        return -EINVAL;
    if (!(__atomic_fetch_and(&pg->type_info, ~PGT_pinned, __ATOMIC_ACQ_REL) & PGT_pinned)) {
        put_page(pg);
        return -EINVAL;
    }
    put_page_and_type(pg);  /* the pin's references */
    put_page(pg);           /* ours */
    return 0;
}

static int clear_or_copy(struct domain *d, unsigned long dst, unsigned long src, bool copy)
{
    struct page_info *dpg = owned_page(d, dst), *spg = NULL;
    int rc = -EINVAL;

    if (!dpg)
        return -EINVAL;
    if (copy && !(spg = owned_page(d, src)))
        goto out;
    rc = get_page_type(dpg, PGT_writable_page);
    if (rc)
        goto out;
    if (copy)
        memcpy(page_to_virt(dpg), page_to_virt(spg), PAGE_SIZE);
    else
        memset(page_to_virt(dpg), 0, PAGE_SIZE);
    put_page_type(dpg);
out:
    if (spg)
        put_page(spg);
    put_page(dpg);
    return rc;
}

static void wbinvd_here(void *unused)
{
    (void)unused;
    wbinvd();
}

/*
 * Writing back caches is for a domain with devices (only the privileged one here).
 * Xen's errnos: -EACCES (this CPU) or -EINVAL (every CPU) for a domain without I/O
 * resources (a foreign page owner was refused with -EPERM before).
 */
static int flush_cache(bool global)
{
    if (!current->domain->is_privileged)
        return global ? -EINVAL : -EACCES;
    if (global)
        on_each_cpu(wbinvd_here, NULL, true);
    else
        wbinvd();
    return 0;
}

static int one_mmuext(struct batch *b, const void *elem)
{
    const struct mmuext_op *op = elem;
    struct vcpu *v = b->v;
    struct domain *d = v->domain;

    /* Pinning, unpinning and clear/copy work on the named domain's frames; the rest
     * concerns the caller's own vCPU and needs no other domain named. */
    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
        return pin_table(b->pg_owner, op->arg1.mfn, op->cmd - MMUEXT_PIN_L1_TABLE + 1);
    case MMUEXT_UNPIN_TABLE:
        return unpin_table(b->pg_owner, op->arg1.mfn);
    case MMUEXT_CLEAR_PAGE:
        return clear_or_copy(b->pg_owner, op->arg1.mfn, 0, false);
    case MMUEXT_COPY_PAGE:
        return clear_or_copy(b->pg_owner, op->arg1.mfn, op->arg2.src_mfn, true);
    }
    if (b->pg_owner != d)
        return -EPERM;
    switch (op->cmd) {
    case MMUEXT_NEW_BASEPTR:
        return pv_new_baseptr(v, op->arg1.mfn, false);
    case MMUEXT_NEW_USER_BASEPTR:
        return pv_new_baseptr(v, op->arg1.mfn, true);
    case MMUEXT_TLB_FLUSH_LOCAL:
        flush_tlb_local();
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        if (guest_range_ok(op->arg1.linear_addr, 1))
            invlpg((void *)op->arg1.linear_addr);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI:
        if (read_vcpumask(d, enso_guest_handle_addr(op->arg2.vcpumask)))
            return -EINVAL; /* Xen's answer for an unreadable bitmap here */
        flush_domain_tlbs(d);
        return 0;
    case MMUEXT_TLB_FLUSH_ALL:
    case MMUEXT_INVLPG_ALL:
        flush_domain_tlbs(d);
        return 0;
    case MMUEXT_FLUSH_CACHE:
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        return flush_cache(op->cmd == MMUEXT_FLUSH_CACHE_GLOBAL);
    case MMUEXT_SET_LDT:
        return pv_set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
        return -EOPNOTSUPP; /* PV superpages are gone from Xen 4.17 as well */
    default:
        return -ENOSYS;
    }
}

long do_mmuext_op(hc_arg_t uops, hc_arg_t count, hc_arg_t pdone, hc_arg_t foreigndom)
{
    return run_batch(uops, count, pdone, foreigndom, sizeof(struct mmuext_op), one_mmuext);
}
