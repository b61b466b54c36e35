/*
 * Walking a PV guest's own page tables from enso, for the operations that name a guest
 * virtual address (update_va_mapping, the writable-page-table assist, LDT pages).
 *
 * Only the L4 is held (it is the vCPU's base pointer); any lower table can be unhooked,
 * retyped and rewritten by another vCPU of the guest while the walk runs. So every
 * frame is checked to be a valid frame the domain owns before it is read, and what the
 * walk finds is a hint: a caller that writes takes references on the L1 and checks
 * that it is still a validated L1 table before trusting it.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/sched.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>

mfn_t pv_guest_l1_table(const struct vcpu *v, uint64_t va)
{
    mfn_t mfn = v->arch.guest_table;

    if (!guest_range_ok(va, 1))
        return INVALID_MFN;
    for (unsigned int level = 4; level > 1; level--) {
        pgentry_t e;
        if (!mfn_valid(mfn) || mfn_to_page(mfn)->u.owner != v->domain)
            return INVALID_MFN;
        e = READ_ONCE(((const pgentry_t *)mfn_to_virt(mfn))[pt_index(va, level)]);
        if (!pte_present(e) || (e & _PAGE_PSE))
            return INVALID_MFN;
        mfn = _mfn(pte_paddr(e) >> PAGE_SHIFT);
    }
    if (!mfn_valid(mfn) || mfn_to_page(mfn)->u.owner != v->domain)
        return INVALID_MFN;
    return mfn;
}

pgentry_t pv_guest_l1e(const struct vcpu *v, uint64_t va)
{
    mfn_t l1 = pv_guest_l1_table(v, va);

    if (mfn_eq(l1, INVALID_MFN))
        return 0;
    return READ_ONCE(((const pgentry_t *)mfn_to_virt(l1))[pt_index(va, 1)]);
}

/* Only a table still in use: a frame whose last use went meanwhile is not retyped. */
int pv_get_l1_table(struct page_info *pg, struct domain *d)
{
    if (!get_page(pg, d))
        return -EINVAL;
    if (!get_page_type_in_use(pg, PGT_l1_page_table))
        return 0;
    put_page(pg);
    return -EINVAL;
}
