/*
 * Memory helpers. A PV guest's page tables hold machine frames; to read a table the
 * walker turns its frame back into a pfn with the M2P and reads it through the
 * bootstrap mapping (pfn n is at GUEST_VIRT_BASE + n * 4096). Only the builder's tables
 * (start_info.pt_base, nr_pt_frames of them) are reachable that way, and the walker
 * refuses any other frame rather than read a wild address.
 */
#include <guest/guest.h>

char scratch_page[4096] __aligned(4096);

uint64_t pfn_to_mfn(uint64_t pfn)
{
    return ((const uint64_t *)start_info->mfn_list)[pfn];
}

/* Virtual address of bootstrap page-table frame mfn, or NULL. */
static const uint64_t *table_va(uint64_t mfn)
{
    uint64_t pfn = M2P[mfn];
    uint64_t va = GUEST_VIRT_BASE + (pfn << PAGE_SHIFT);
    uint64_t lo = start_info->pt_base;
    uint64_t hi = lo + start_info->nr_pt_frames * PAGE_SIZE;

    if (pfn >= start_info->nr_pages || va < lo || va >= hi)
        return NULL;
    if (pfn_to_mfn(pfn) != mfn)
        return NULL;
    return (const uint64_t *)va;
}

bool pt_lookup(uint64_t va, uint64_t *leaf, int *level)
{
    const uint64_t *table = (const uint64_t *)start_info->pt_base;

    for (int lvl = 4; lvl >= 1; lvl--) {
        uint64_t e = table[(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511];

        *leaf = e;
        *level = lvl;
        if (!(e & _PAGE_PRESENT))
            return false;
        if (lvl == 1 || (lvl <= 3 && (e & _PAGE_PSE)))
            return true;
        table = table_va(PTE_MFN(e));
        if (!table)
            return false;
    }
    return false;
}

long map_mfn(ulong va, uint64_t mfn, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping(va, (mfn << PAGE_SHIFT) | flags, UVMF_INVLPG);
}
