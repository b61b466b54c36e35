/*
 * Tearing down a PV domain's page tables. Every type reference on a frame comes from a
 * pin, a vCPU's base pointer or descriptor tables, or an entry of a validated table
 * one level up; tables nest strictly downwards, so there are no cycles. Dropping the
 * pins and the vCPUs' references (base pointers, descriptor tables, a registered
 * vcpu_info's frame) therefore unwinds every table (each devalidation
 * releases what its entries held), after which only the allocation references remain
 * and common code frees the frames.
 */
#include <enso/sched.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>

static void drop_baseptr(mfn_t *slot)
{
    if (!mfn_eq(*slot, INVALID_MFN))
        put_page_and_type(mfn_to_page(*slot));
    *slot = INVALID_MFN;
}

/* Unpin every pinned table. Frames stay allocated meanwhile, so the list is stable. */
static void unpin_all(struct domain *d)
{
    struct page_info *pg;

    spin_lock(&d->page_lock);
    list_for_each_entry(pg, &d->page_list, list) {
        if (!(pg->type_info & PGT_pinned))
            continue;
        __atomic_fetch_and(&pg->type_info, ~PGT_pinned, __ATOMIC_ACQ_REL);
        /* Devalidation only puts references, which never takes page_lock while the
         * allocation reference keeps each frame alive. */
        put_page_and_type(pg);
    }
    spin_unlock(&d->page_lock);
}

void arch_domain_relinquish(struct domain *d)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        if (!v)
            continue;
        vcpu_release_areas(v);
        pv_vcpu_release_descriptors(v);
        drop_baseptr(&v->arch.guest_table);
        drop_baseptr(&v->arch.guest_table_user);
    }
    unpin_all(d);
}
