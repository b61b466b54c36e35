/*
 * A pool of spare frames for tests that build page tables or give memory back. The
 * builder maps only the bootstrap region (from pfn 0 up to a 4 MiB boundary past the
 * boot stack); every pfn above it is the domain's but mapped nowhere, so it can take
 * any type. frame_alloc hands those out, zeroed with MMUEXT_CLEAR_PAGE.
 */
#include <guest/guest.h>
#include <guest/frames.h>

#define POOL_MAX 4096

static uint64_t pool[POOL_MAX];
static unsigned int pool_nr;
static bool pool_ready;
static uint64_t first_spare;

/* The first pfn the bootstrap tables do not map. */
static uint64_t bootstrap_end(void)
{
    uint64_t pfn = start_info->nr_pt_frames + (start_info->pt_base - GUEST_VIRT_BASE) / PAGE_SIZE;
    uint64_t leaf;
    int level;

    while (pfn < start_info->nr_pages && pt_lookup(GUEST_VIRT_BASE + pfn * PAGE_SIZE, &leaf, &level))
        pfn++;
    return pfn;
}

static void pool_init(void)
{
    first_spare = bootstrap_end();
    for (uint64_t pfn = start_info->nr_pages; pfn > first_spare && pool_nr < POOL_MAX;)
        pool[pool_nr++] = pfn_to_mfn(--pfn);
    pool_ready = true;
}

uint64_t frames_first_spare_pfn(void)
{
    if (!pool_ready)
        pool_init();
    return first_spare;
}

unsigned long frames_available(void)
{
    if (!pool_ready)
        pool_init();
    return pool_nr;
}

uint64_t frame_alloc(void)
{
    struct mmuext_op op = { .cmd = MMUEXT_CLEAR_PAGE };
    uint64_t mfn;

    if (!pool_ready)
        pool_init();
    if (!pool_nr)
        return 0;
    mfn = pool[--pool_nr];
    op.arg1.mfn = mfn;
    if (HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF)) {
        pool[pool_nr++] = mfn;
        return 0;
    }
    return mfn;
}

void frame_free(uint64_t mfn)
{
    if (pool_nr < POOL_MAX)
        pool[pool_nr++] = mfn;
}
