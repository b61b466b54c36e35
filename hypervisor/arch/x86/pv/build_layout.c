/*
 * The layout of a new PV domain (see <asm/pv_build_layout.h>). The bootstrap region
 * [v_start, v_end) maps pfn 0 upward and holds, each element page aligned:
 *   kernel | initrd (unless MOD_START_PFN) | p2m list (unless INIT_P2M) | start_info |
 *   xenstore page, console page (domU) | bootstrap page tables | stack
 * and ends on a 4 MiB boundary at least 512 KiB past the stack.
 *
 * With INIT_P2M the p2m list gets its own mapping at that address, with tables of its
 * own under its L4 slot. The frames holding the list and those tables follow, in pfn
 * space, whatever the initial allocation covers; start_info names them (first_p2m_pfn,
 * nr_p2m_frames) so that the kernel can keep them. They are never superpages here:
 * enso's page tables take none (Xen's dom0 builder would use 2 MiB or 1 GiB pages for
 * a list that covers a whole aligned one).
 */
#include <enso/errno.h>
#include <enso/lib.h>
#include <asm/pv_build_layout.h>
#include <public/xen.h>

#define REGION_ALIGN MB(4)
#define REGION_SLACK KB(512)
#define CANONICAL_LOW_END 0x0000800000000000UL   /* first address of the hole */
#define CANONICAL_HIGH_START 0xffff800000000000UL

static uint64_t page_up(uint64_t a) { return ROUNDUP(a, PAGE_SIZE); }

/* Address bits one table of level lvl (1-3) covers: an L1 maps 2 MiB, ... */
static unsigned int table_shift(unsigned int lvl)
{
    return PAGE_SHIFT + 9 * lvl;
}

/* Table indices at level lvl covering [s, e). */
static void index_range(uint64_t s, uint64_t e, unsigned int lvl, uint64_t *lo,
                        uint64_t *hi)
{
    *lo = s >> table_shift(lvl);
    *hi = (e - 1) >> table_shift(lvl);
}

/* Tables to map [s, e) with 4 KiB pages, the L4 included. */
static unsigned long tables_needed(uint64_t s, uint64_t e)
{
    unsigned long n = 1;

    for (unsigned int lvl = 1; lvl <= 3; lvl++)
        n += ((e - 1) >> table_shift(lvl)) - (s >> table_shift(lvl)) + 1;
    return n;
}

static int fail(const char **why, const char *msg, int rc)
{
    *why = msg;
    return rc;
}

static int too_big(const char **why)
{
    return fail(why, "not enough memory or address space for the kernel and its bootstrap "
                "region", -ENOMEM);
}

/* *cur + n, if that does not pass top (the memory's or the address space's end). */
static bool advance(uint64_t *cur, uint64_t n, uint64_t top)
{
    if (*cur > top || n > top - *cur)
        return false;
    *cur += n;
    return true;
}

static bool advance_page_up(uint64_t *cur, uint64_t top)
{
    return advance(cur, (PAGE_SIZE - (*cur & (PAGE_SIZE - 1))) & (PAGE_SIZE - 1), top);
}

/*
 * Domain 0, as Xen's builder: the stack's end rounded up to 4 MiB, 4 MiB more if that
 * leaves less than 512 KiB; as many table frames as the result needs (the smallest
 * count that maps itself: need() grows with the count, so iterating from 0 finds it).
 */
static int dom0_region_end(struct pv_layout *l, uint64_t top, const char **why)
{
    unsigned long nr_pt = 0;

    for (;;) {
        uint64_t stack_end = l->pt_start, end;
        unsigned long need;

        if (nr_pt + 1 > (top - stack_end) / PAGE_SIZE)
            return too_big(why);
        stack_end += (nr_pt + 1) * PAGE_SIZE;
        end = ROUNDUP(stack_end, REGION_ALIGN);
        if (end < stack_end)
            return too_big(why);
        if (end - stack_end < REGION_SLACK && !advance(&end, REGION_ALIGN, top))
            return too_big(why);
        if (end > top)
            return too_big(why);
        need = tables_needed(l->v_start, end);
        if (need <= nr_pt) {
            l->nr_pt_frames = nr_pt;
            l->v_end = end;
            return 0;
        }
        nr_pt = need;
    }
}

/*
 * Any other domain, as libxenguest: room for the tables, the stack and 512 KiB, with
 * the end "rounded" as (x | (4 MiB - 1)) + 1 (a whole 4 MiB more when x is already on
 * a boundary); the tables counted for that end, tried again until they fit.
 */
static int domu_region_end(struct pv_layout *l, uint64_t top, const char **why)
{
    const unsigned long extra = 1 + REGION_SLACK / PAGE_SIZE; /* stack + padding */
    unsigned long pages = extra;

    for (;;) {
        uint64_t end;

        if (pages > (top - l->pt_start) / PAGE_SIZE)
            return too_big(why);
        end = (l->pt_start + pages * PAGE_SIZE) | (REGION_ALIGN - 1);
        if (end >= top)
            return too_big(why);
        end++;
        l->nr_pt_frames = tables_needed(l->v_start, end);
        pages = l->nr_pt_frames + extra;
        if (pages <= (end - l->pt_start) / PAGE_SIZE) {
            l->v_end = end;
            return 0;
        }
    }
}

static bool canonical_range(uint64_t first, uint64_t last)
{
    if (last < first)
        return false;
    return last < CANONICAL_LOW_END || first >= CANONICAL_HIGH_START;
}

/* An INIT_P2M list's own rules: whole pages, canonical, clear of enso's range. */
static int check_p2m_base(const struct pv_layout_req *rq, const char **why)
{
    uint64_t first = rq->p2m_base, size = page_up(rq->nr_pages * sizeof(uint64_t));

    if (first & (PAGE_SIZE - 1))
        return fail(why, "INIT_P2M: the p2m address is not page aligned", -EINVAL);
    if (!canonical_range(first, first + size - 1))
        return fail(why, "INIT_P2M: the p2m list would not be at canonical addresses",
                    -EINVAL);
    if (first < __HYPERVISOR_VIRT_END && first + size > __HYPERVISOR_VIRT_START)
        return fail(why, "INIT_P2M: the p2m list overlaps the hypervisor's virtual "
                    "address range", -EINVAL);
    return 0;
}

/*
 * Xen's dom0 builder refuses a list touching the region, ends included (it compares
 * the list's unrounded end with v_start, and its start with v_end); the toolstack
 * refuses an overlap of the list's whole pages with the region.
 */
static bool p2m_overlaps_region(const struct pv_layout *l)
{
    if (l->dom0_order)
        return l->v_start <= l->p2m_end && l->p2m_start <= l->v_end;
    return l->p2m_start < l->v_end &&
           l->p2m_start + l->p2m_data_frames * PAGE_SIZE > l->v_start;
}

/* Tables of level lvl the list needs that the region does not already have. */
static unsigned long new_tables(const struct pv_layout *l, unsigned int lvl)
{
    uint64_t lo, hi, rlo, rhi, n;

    index_range(l->p2m_start, l->p2m_start + l->p2m_data_frames * PAGE_SIZE, lvl, &lo, &hi);
    index_range(l->v_start, l->v_end, lvl, &rlo, &rhi);
    n = hi - lo + 1;

    if (rlo <= hi && lo <= rhi)
        n -= MIN(hi, rhi) - MAX(lo, rlo) + 1;
    return n;
}

/*
 * The pfns past the region: an initrd taken by pfn, then *after, the first pfn nothing
 * of the initial layout uses.
 */
static int place_after_region(const struct pv_layout_req *rq, struct pv_layout *l,
                              unsigned long *after, const char **why)
{
    unsigned long region = (l->v_end - l->v_start) >> PAGE_SHIFT;
    unsigned long initrd_pages = PFN_UP(rq->initrd_len);
    bool by_pfn = rq->initrd_len && !l->initrd_start;

    if (l->dom0_order) {
        /* Xen's dom0 gets a power-of-two block covering the region (its initrd
           frames aside) first; the initrd's frames, wherever mapped, come next. */
        unsigned long need = region - (l->initrd_start ? initrd_pages : 0), block = 1;

        while (block < need)
            block <<= 1;
        if (block > rq->nr_pages || initrd_pages > rq->nr_pages - block)
            return too_big(why);
        if (by_pfn)
            l->initrd_pfn = block;
        *after = block + initrd_pages;
    } else {
        /* The toolstack: the initrd right after the region (whose size the memory
           check above already bounded). */
        if (by_pfn && initrd_pages > rq->nr_pages - region)
            return fail(why, "not enough memory for the initrd", -ENOMEM);
        if (by_pfn)
            l->initrd_pfn = region;
        *after = region + (by_pfn ? initrd_pages : 0);
    }
    if (by_pfn)
        l->initrd_pages = initrd_pages;
    return 0;
}

/* The list's own mapping: its pages and new tables from pfn first on. */
static int place_separate_p2m(const struct pv_layout_req *rq, struct pv_layout *l,
                              unsigned long first, const char **why)
{
    unsigned long frames;
    int rc = check_p2m_base(rq, why);

    if (rc)
        return rc;
    l->p2m_start = rq->p2m_base;
    l->p2m_end = rq->p2m_base + rq->nr_pages * sizeof(uint64_t);
    l->p2m_data_frames = PFN_UP(rq->nr_pages * sizeof(uint64_t));
    if (p2m_overlaps_region(l))
        return fail(why, "INIT_P2M: the p2m list overlaps the bootstrap region", -EINVAL);
    frames = l->p2m_data_frames;
    for (unsigned int lvl = 1; lvl <= 3; lvl++) {
        l->p2m_new_tables[lvl] = new_tables(l, lvl);
        frames += l->p2m_new_tables[lvl];
    }
    if (first > rq->nr_pages || frames > rq->nr_pages - first)
        return fail(why, "not enough memory for the p2m list", -ENOMEM);
    l->first_p2m_pfn = first;
    l->nr_p2m_frames = frames;
    return 0;
}

int pv_layout_compute(const struct pv_layout_req *rq, struct pv_layout *l,
                      const char **why)
{
    /* Nothing of the region lies above top: the end of the domain's memory counted
       from v_start, or of the address space. Every step is checked against it. */
    uint64_t room = (uint64_t)rq->nr_pages << PAGE_SHIFT, top, cur;
    unsigned long after;
    int rc;

    memset(l, 0, sizeof(*l));
    l->dom0_order = rq->initial_domain;
    l->v_start = rq->virt_base;
    l->kern_start = rq->kern_start;
    l->kern_end = rq->kern_end;
    if (l->kern_start < l->v_start || ((l->kern_start - l->v_start) & (PAGE_SIZE - 1)))
        return fail(why, "kernel start is below or not page aligned with its virtual base",
                    -EINVAL);
    if (rq->nr_pages > (~0UL >> PAGE_SHIFT) || rq->initrd_len > room)
        return too_big(why);
    top = room > ~0UL - l->v_start ? ~0UL : l->v_start + room;
    /* libxenguest ignores an INIT_P2M at or above VIRT_BASE (the list stays in the
       region); Xen's dom0 builder takes any address. */
    if (rq->has_p2m_base && !l->dom0_order && rq->p2m_base >= rq->virt_base)
        l->p2m_base_ignored = true;
    else
        l->p2m_separate = rq->has_p2m_base;

    cur = l->kern_end;
    if (cur < l->kern_start || cur > top || !advance_page_up(&cur, top))
        return too_big(why);
    if (rq->initrd_len && !rq->initrd_by_pfn) {
        l->initrd_start = cur;
        if (!advance(&cur, rq->initrd_len, top))
            return too_big(why);
        l->initrd_end = cur;
        if (!advance_page_up(&cur, top))
            return too_big(why);
    }
    if (!l->p2m_separate) {
        l->p2m_start = cur;
        if (!advance(&cur, rq->nr_pages * sizeof(uint64_t), top))
            return too_big(why);
        l->p2m_end = cur;
        if (!advance_page_up(&cur, top))
            return too_big(why);
    }
    l->si_start = cur;
    if (!l->dom0_order) {
        l->store_start = cur + PAGE_SIZE;
        l->cons_start = cur + 2 * PAGE_SIZE;
    }
    if (!advance(&cur, (l->dom0_order ? 1 : 3) * PAGE_SIZE, top))
        return too_big(why);
    l->pt_start = cur;
    rc = l->dom0_order ? dom0_region_end(l, top, why) : domu_region_end(l, top, why);
    if (rc)
        return rc;
    l->pt_end = l->pt_start + l->nr_pt_frames * PAGE_SIZE;
    l->stack_start = l->pt_end;

    rc = place_after_region(rq, l, &after, why);
    if (rc)
        return rc;
    if (l->p2m_separate)
        return place_separate_p2m(rq, l, after, why);
    /* Without INIT_P2M Xen's dom0 builder still names the first pfn past its initial
       allocation (and no frames); the toolstack leaves both 0. */
    l->first_p2m_pfn = l->dom0_order ? after : 0;
    return 0;
}

void pv_walk_region(struct pv_walk *w, const struct pv_layout *l)
{
    unsigned long first = ((l->pt_start - l->v_start) >> PAGE_SHIFT) + 1; /* after the L4 */

    memset(w, 0, sizeof(*w));
    w->start = l->v_start;
    w->pages = (l->v_end - l->v_start) >> PAGE_SHIFT;
    for (unsigned int lvl = 1; lvl <= 3; lvl++) {
        w->have_lo[lvl] = 1; /* nothing there but the L4 */
        w->have_hi[lvl] = 0;
    }
    if (l->dom0_order) {
        w->one_sequence = w->bottom_up = true;
        w->next[0] = first;
    } else {
        uint64_t lo, hi;

        w->next[3] = first;
        index_range(l->v_start, l->v_end, 3, &lo, &hi);
        w->next[2] = w->next[3] + (hi - lo + 1);
        index_range(l->v_start, l->v_end, 2, &lo, &hi);
        w->next[1] = w->next[2] + (hi - lo + 1);
    }
}

void pv_walk_p2m(struct pv_walk *w, const struct pv_layout *l)
{
    memset(w, 0, sizeof(*w));
    w->start = l->p2m_start;
    w->pages = l->p2m_separate ? l->p2m_data_frames : 0;
    w->take_data = true;
    for (unsigned int lvl = 1; lvl <= 3; lvl++)
        index_range(l->v_start, l->v_end, lvl, &w->have_lo[lvl], &w->have_hi[lvl]);
    w->next[0] = l->first_p2m_pfn;
    if (l->dom0_order) {
        w->one_sequence = true;
    } else {
        /* libxenguest: the list's pages, then its L3s, L2s and L1s. */
        w->next[3] = l->first_p2m_pfn + l->p2m_data_frames;
        w->next[2] = w->next[3] + l->p2m_new_tables[3];
        w->next[1] = w->next[2] + l->p2m_new_tables[2];
    }
}

static unsigned long take(struct pv_walk *w, unsigned int kind)
{
    return w->one_sequence ? w->next[0]++ : w->next[kind]++;
}

/* Whether the page at va is the first under a table of level lvl not yet there. */
static bool needs_table(const struct pv_walk *w, uint64_t va, unsigned int lvl)
{
    unsigned int sh = table_shift(lvl);
    uint64_t idx = va >> sh;

    if (idx >= w->have_lo[lvl] && idx <= w->have_hi[lvl])
        return false;
    return w->page == 0 || idx != (va - PAGE_SIZE) >> sh;
}

bool pv_walk_next(struct pv_walk *w, struct pv_walk_step *s)
{
    if (w->page >= w->pages)
        return false;
    s->va = w->start + w->page * PAGE_SIZE;
    s->table_pfn[0] = PV_NO_TABLE;
    for (unsigned int i = 0; i < 3; i++) {
        unsigned int lvl = w->bottom_up ? 1 + i : 3 - i;

        s->table_pfn[lvl] = needs_table(w, s->va, lvl) ? take(w, lvl) : PV_NO_TABLE;
    }
    s->pfn = w->take_data ? take(w, 0) : w->data_pfn++;
    w->page++;
    return true;
}
