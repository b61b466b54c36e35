/*
 * Page-table helpers (see <guest/pt.h>): single mmuext ops and mmu_updates, scratch_page
 * as a window onto frames, and the bootstrap L1 entry behind an address.
 */
#include <guest/pt.h>

long mmuext2(unsigned int cmd, uint64_t arg1, uint64_t arg2)
{
    struct mmuext_op op = { .cmd = cmd };

    op.arg1.mfn = arg1;
    op.arg2.src_mfn = arg2;
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

long mmuext1(unsigned int cmd, uint64_t arg1)
{
    return mmuext2(cmd, arg1, 0);
}

long pt_pin(unsigned int level, uint64_t mfn)
{
    return mmuext1(MMUEXT_PIN_L1_TABLE + level - 1, mfn);
}

long pt_unpin(uint64_t mfn)
{
    return mmuext1(MMUEXT_UNPIN_TABLE, mfn);
}

long pt_update_cmd(uint64_t mfn, unsigned int index, uint64_t val, unsigned int cmd)
{
    struct mmu_update u = { .ptr = (mfn << PAGE_SHIFT) + index * 8UL + cmd, .val = val };

    return HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
}

uint64_t image_mfn(const void *p)
{
    return pfn_to_mfn(((ulong)p - GUEST_VIRT_BASE) >> PAGE_SHIFT);
}

long scratch_map(uint64_t mfn, uint64_t flags)
{
    return map_mfn((ulong)scratch_page, mfn, _PAGE_PRESENT | _PAGE_ACCESSED | flags);
}

void scratch_restore(void)
{
    scratch_map(image_mfn(scratch_page), _PAGE_RW | _PAGE_DIRTY);
}

uint64_t pt_read(uint64_t mfn, unsigned int index)
{
    uint64_t v;

    if (scratch_map(mfn, 0))
        return ~0UL;
    v = ((volatile uint64_t *)scratch_page)[index];
    scratch_restore();
    return v;
}

bool frame_writable(uint64_t mfn)
{
    bool ok = scratch_map(mfn, _PAGE_RW) == 0;

    scratch_restore();
    return ok;
}

/* A bootstrap table frame as the builder maps it (read-only, in the region), or NULL. */
static const uint64_t *boot_table(uint64_t mfn)
{
    uint64_t pfn = M2P[mfn];
    uint64_t lo = (start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT;

    if (pfn < lo || pfn >= lo + start_info->nr_pt_frames || pfn_to_mfn(pfn) != mfn)
        return NULL;
    return (const uint64_t *)(GUEST_VIRT_BASE + (pfn << PAGE_SHIFT));
}

uint64_t boot_l1_slot(ulong va)
{
    const uint64_t *t = (const uint64_t *)start_info->pt_base;

    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t e = t[(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511];

        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return 0;
        if (lvl == 2)
            return (PTE_MFN(e) << PAGE_SHIFT) + ((va >> PAGE_SHIFT) & 511) * 8;
        t = boot_table(PTE_MFN(e));
        if (!t)
            return 0;
    }
    return 0;
}
