/*
 * Buddy allocator of machine frames.
 *
 * Invariants while heap_lock is not held:
 *  - every frame of a free block has PGC_free, maybe PGC_need_scrub, nothing else;
 *  - a block's head frame has u.free_order == its order and sits on free_list[order];
 *    every other frame of the block has u.free_order == FREE_ORDER_NONE;
 *  - blocks are aligned to their size and lie below max_page;
 *  - no two free buddies of the same order exist (they would have been merged);
 *  - nr_free_pages, nr_dirty_pages and nr_free_blocks[] describe the lists exactly.
 * Frames never given to the allocator never carry PGC_free, so a buddy check that
 * requires PGC_free can never pull a hole or a reserved frame into a block.
 */
#include <enso/page_alloc.h>
#include <enso/spinlock.h>
#include <enso/printk.h>
#include <enso/lib.h>

/* u.free_order of free frames that do not head a block; never a real order. */
#define FREE_ORDER_NONE 0xffffffffU

/*
 * type_info of a free block's head: set when the block may contain PGC_need_scrub
 * frames. It may be set on a clean block but is never clear on a dirty one, so the
 * scrubber can skip clean blocks without looking at their frames.
 */
#define FREE_MAYBE_DIRTY 1UL

static DEFINE_SPINLOCK(heap_lock);
static struct list_head free_list[MAX_ORDER + 1];
static bool lists_ready;
static unsigned long nr_free_blocks[MAX_ORDER + 1];
static unsigned long nr_free_pages;
static unsigned long nr_dirty_pages; /* free frames with PGC_need_scrub */
static unsigned long nr_total_pages;

/* The lists are set up on first use so that nothing has to run before heap_add_pages. */
static unsigned long heap_lock_acquire(void)
{
    unsigned long flags = spin_lock_irqsave(&heap_lock);

    if (unlikely(!lists_ready)) {
        for (unsigned int o = 0; o <= MAX_ORDER; o++)
            list_init(&free_list[o]);
        lists_ready = true;
    }
    return flags;
}

static void heap_lock_release(unsigned long flags)
{
    spin_unlock_irqrestore(&heap_lock, flags);
}

static void link_block(struct page_info *pg, unsigned int order, bool maybe_dirty)
{
    pg->u.free_order = order;
    pg->type_info = maybe_dirty ? FREE_MAYBE_DIRTY : 0;
    list_add(&pg->list, &free_list[order]);
    nr_free_blocks[order]++;
}

/* The head stops being a head: it is either handed out or absorbed into a bigger block. */
static void unlink_block(struct page_info *pg, unsigned int order)
{
    list_del(&pg->list);
    pg->u.free_order = FREE_ORDER_NONE;
    pg->type_info = 0;
    nr_free_blocks[order]--;
}

/* The buddy of block mfn at this order, if it is a free block of exactly this order. */
static struct page_info *free_buddy(unsigned long mfn, unsigned int order)
{
    unsigned long b = mfn ^ (1UL << order);
    struct page_info *pg;

    if (!mfn_valid(_mfn(b)))
        return NULL;
    pg = mfn_to_page(_mfn(b));
    if (!(pg->count_info & PGC_free) || pg->u.free_order != order)
        return NULL;
    return pg;
}

/* Put an already-marked block on the lists, merging with free buddies first. */
static void insert_block(unsigned long mfn, unsigned int order, bool maybe_dirty)
{
    while (order < MAX_ORDER) {
        struct page_info *buddy = free_buddy(mfn, order);

        if (!buddy)
            break;
        maybe_dirty |= buddy->type_info & FREE_MAYBE_DIRTY;
        unlink_block(buddy, order);
        mfn &= ~(1UL << order);
        order++;
    }
    link_block(mfn_to_page(_mfn(mfn)), order, maybe_dirty);
}

static void mark_frames_free(struct page_info *pg, unsigned long n, bool dirty)
{
    for (unsigned long i = 0; i < n; i++) {
        pg[i].count_info = PGC_free | (dirty ? PGC_need_scrub : 0);
        pg[i].type_info = 0;
        pg[i].u.owner = NULL;
        pg[i].u.free_order = FREE_ORDER_NONE;
    }
    nr_free_pages += n;
    if (dirty)
        nr_dirty_pages += n;
}

/*
 * Frames about to enter the allocator must belong to their caller: not free already,
 * not reserved, not enso's own. Returns NULL when all n frames qualify, else a message
 * and the offending frame in *bad.
 */
static const char *frames_not_ownable(unsigned long mfn, unsigned long n, unsigned long *bad)
{
    const struct page_info *pg = mfn_to_page(_mfn(mfn));

    for (unsigned long i = 0; i < n; i++) {
        *bad = mfn + i;
        if (pg[i].count_info & PGC_free)
            return "frame is already free";
        if (pg[i].count_info & PGC_reserved)
            return "frame is reserved";
        if (pg[i].count_info & PGC_xenheap)
            return "xenheap frame given to the domain heap";
    }
    return NULL;
}

/* Largest order of an aligned block starting at mfn that fits into len frames. */
static unsigned int fitting_order(unsigned long mfn, unsigned long len)
{
    unsigned int order = MAX_ORDER;

    if (mfn && (unsigned int)__builtin_ctzl(mfn) < order)
        order = (unsigned int)__builtin_ctzl(mfn);
    while ((1UL << order) > len)
        order--;
    return order;
}

void heap_add_pages(mfn_t start, unsigned long nr)
{
    unsigned long s = mfn_x(start), end = s + nr, bad = s, flags;
    const char *err = NULL;

    if (!nr)
        return;
    if (end < s || end > max_page) {
        page_alloc_bug("heap_add_pages: range beyond the frame table", start);
        return;
    }
    flags = heap_lock_acquire();
    err = frames_not_ownable(s, nr, &bad);
    while (!err && s < end) {
        unsigned int order = fitting_order(s, end - s);

        mark_frames_free(mfn_to_page(_mfn(s)), 1UL << order, true);
        insert_block(s, order, true);
        s += 1UL << order;
    }
    if (!err)
        nr_total_pages += nr;
    heap_lock_release(flags);
    if (err)
        page_alloc_bug(err, _mfn(bad));
}

/*
 * The first free block of order o from which a block of `order` at its start ends at or
 * below frame `limit` (the lower half is what take_block keeps when it splits).
 */
static struct page_info *block_below(unsigned int o, unsigned int order, unsigned long limit)
{
    struct page_info *pg;

    list_for_each_entry(pg, &free_list[o], list)
        if (mfn_x(page_to_mfn(pg)) + (1UL << order) <= limit)
            return pg;
    return NULL;
}

/*
 * Take a block of exactly this order off the lists, splitting a bigger one if needed,
 * from frames below `limit`.
 */
static struct page_info *take_block(unsigned int order, unsigned long limit)
{
    unsigned int o = order;
    struct page_info *pg = NULL;
    bool maybe_dirty;

    for (; o <= MAX_ORDER; o++) {
        if (list_empty(&free_list[o]))
            continue;
        pg = limit == ~0UL ? list_first_entry(&free_list[o], struct page_info, list)
                           : block_below(o, order, limit);
        if (pg)
            break;
    }
    if (!pg)
        return NULL;
    maybe_dirty = pg->type_info & FREE_MAYBE_DIRTY;
    unlink_block(pg, o);
    /* Keep the lower half each time; the upper halves go back as free blocks. */
    while (o > order) {
        o--;
        link_block(pg + (1UL << o), o, maybe_dirty);
    }
    return pg;
}

/*
 * Under the lock: the frames leave the allocator. Only PGC_need_scrub survives, as a
 * note for the scrub done after the lock is dropped.
 */
static void claim_frames(struct page_info *pg, unsigned long n)
{
    unsigned long dirty = 0;

    for (unsigned long i = 0; i < n; i++) {
        if (pg[i].count_info & PGC_need_scrub)
            dirty++;
        pg[i].count_info &= PGC_need_scrub;
    }
    nr_free_pages -= n;
    nr_dirty_pages -= dirty;
}

static void scrub_frame(struct page_info *pg)
{
    memset(page_to_virt(pg), 0, PAGE_SIZE);
}

/* Outside the lock: the block is private now, so zeroing it delays nobody else. */
static void finish_frames(struct page_info *pg, unsigned long n, bool scrub)
{
    for (unsigned long i = 0; i < n; i++) {
        if (scrub && (pg[i].count_info & PGC_need_scrub))
            scrub_frame(&pg[i]);
        pg[i].count_info = 0;
        pg[i].type_info = 0;
        pg[i].u.owner = NULL;
        pg[i].list.next = pg[i].list.prev = NULL;
    }
}

struct page_info *alloc_heap_pages(unsigned int order, unsigned int memflags)
{
    struct page_info *pg;
    unsigned long flags;
    unsigned int bits = MEMF_get_bits(memflags);
    unsigned long limit = bits && bits < 64 ? (1UL << bits) >> PAGE_SHIFT : ~0UL;

    if (order > MAX_ORDER)
        return NULL;
    flags = heap_lock_acquire();
    pg = take_block(order, limit);
    if (pg)
        claim_frames(pg, 1UL << order);
    heap_lock_release(flags);
    if (pg)
        finish_frames(pg, 1UL << order, !(memflags & MEMF_no_scrub));
    return pg;
}

/* Why the block at mfn of this order cannot be freed, or NULL if it can. */
static const char *block_not_freeable(unsigned long mfn, unsigned int order, unsigned long *bad)
{
    unsigned long n;

    *bad = mfn;
    if (order > MAX_ORDER)
        return "free_heap_pages: order too large";
    n = 1UL << order;
    if (mfn >= max_page || n > max_page - mfn)
        return "free_heap_pages: frame outside the frame table";
    if (mfn & (n - 1))
        return "free_heap_pages: block not aligned to its order";
    return frames_not_ownable(mfn, n, bad);
}

void free_heap_pages(struct page_info *pg, unsigned int order, bool need_scrub)
{
    unsigned long mfn = mfn_x(page_to_mfn(pg)), bad, flags;
    const char *err;

    flags = heap_lock_acquire();
    err = block_not_freeable(mfn, order, &bad);
    if (!err) {
        mark_frames_free(pg, 1UL << order, need_scrub);
        insert_block(mfn, order, need_scrub);
    }
    heap_lock_release(flags);
    if (err)
        page_alloc_bug(err, _mfn(bad));
}

void *alloc_xenheap_pages(unsigned int order, unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages(order, memflags);

    if (!pg)
        return NULL;
    for (unsigned long i = 0; i < (1UL << order); i++)
        pg[i].count_info |= PGC_xenheap;
    return page_to_virt(pg);
}

void free_xenheap_pages(void *v, unsigned int order)
{
    mfn_t mfn;
    struct page_info *pg;

    if (!v)
        return;
    mfn = virt_to_mfn(v);
    if (order > MAX_ORDER || !mfn_valid(mfn) || ((uintptr_t)v & (PAGE_SIZE - 1))) {
        page_alloc_bug("free_xenheap_pages: not a xenheap block", mfn);
        return;
    }
    pg = mfn_to_page(mfn);
    /* The range check in free_heap_pages comes too late for this loop: repeat it. */
    if ((1UL << order) > max_page - mfn_x(mfn)) {
        page_alloc_bug("free_xenheap_pages: block beyond the frame table", mfn);
        return;
    }
    for (unsigned long i = 0; i < (1UL << order); i++) {
        if ((pg[i].count_info & (PGC_xenheap | PGC_free)) != PGC_xenheap) {
            page_alloc_bug("free_xenheap_pages: frame is not allocated xenheap",
                           mfn_add(mfn, i));
            return;
        }
    }
    for (unsigned long i = 0; i < (1UL << order); i++)
        pg[i].count_info &= ~PGC_xenheap;
    free_heap_pages(pg, order, true);
}

unsigned long heap_free_pages(void)
{
    return READ_ONCE(nr_free_pages);
}

unsigned long heap_total_pages(void)
{
    return READ_ONCE(nr_total_pages);
}

void heap_free_counts(unsigned long counts[MAX_ORDER + 1])
{
    unsigned long flags = heap_lock_acquire();

    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        counts[o] = nr_free_blocks[o];
    heap_lock_release(flags);
}

void heap_dump(void)
{
    unsigned long counts[MAX_ORDER + 1];
    unsigned long free, total, dirty, flags;

    flags = heap_lock_acquire();
    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        counts[o] = nr_free_blocks[o];
    free = nr_free_pages;
    total = nr_total_pages;
    dirty = nr_dirty_pages;
    heap_lock_release(flags);

    /* 256 frames of 4 KiB make one MiB. */
    printk("heap: %lu MiB free of %lu MiB (%lu frames awaiting scrub)\n",
           free >> 8, total >> 8, dirty);
    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        if (counts[o])
            printk("heap:   order %2u: %lu free blocks\n", o, counts[o]);
}

/* Zero at most budget dirty frames of one free block; returns how many were zeroed. */
static unsigned int scrub_block(struct page_info *head, unsigned int order, unsigned int budget)
{
    unsigned long n = 1UL << order, i;
    unsigned int done = 0;

    for (i = 0; i < n && done < budget; i++) {
        if (!(head[i].count_info & PGC_need_scrub))
            continue;
        scrub_frame(&head[i]);
        head[i].count_info &= ~PGC_need_scrub;
        done++;
    }
    /* Clear the hint only after looking at every frame of the block. */
    if (i == n)
        head->type_info &= ~FREE_MAYBE_DIRTY;
    nr_dirty_pages -= done;
    return done;
}

int heap_scrub_some(unsigned int max_pages)
{
    unsigned int done = 0;
    unsigned long flags;
    struct list_head *p;

    flags = heap_lock_acquire();
    for (unsigned int o = 0; o <= MAX_ORDER && done < max_pages && nr_dirty_pages; o++) {
        list_for_each(p, &free_list[o]) {
            struct page_info *pg = list_entry(p, struct page_info, list);

            if (done == max_pages)
                break;
            if (pg->type_info & FREE_MAYBE_DIRTY)
                done += scrub_block(pg, o, max_pages - done);
        }
    }
    heap_lock_release(flags);
    return (int)done;
}

static bool heap_violation(const char *what, unsigned long mfn, unsigned int order)
{
    printk(LOG_ERR "heap_check: %s (mfn 0x%lx, order %u)\n", what, mfn, order);
    return false;
}

static bool count_violation(const char *what, unsigned long have, unsigned long want)
{
    printk(LOG_ERR "heap_check: %s (%lu, expected %lu)\n", what, have, want);
    return false;
}

/* The frames of one listed block; adds its dirty frames to *dirty. */
static bool check_block_frames(const struct page_info *head, unsigned int order,
                               unsigned long *dirty)
{
    unsigned long mfn = mfn_x(page_to_mfn(head)), n = 1UL << order, block_dirty = 0;

    for (unsigned long i = 0; i < n; i++) {
        unsigned long ci = head[i].count_info;

        if (!(ci & PGC_free))
            return heap_violation("frame in a free block lacks PGC_free", mfn + i, order);
        if (ci & ~(PGC_free | PGC_need_scrub))
            return heap_violation("free frame has stray flags or references", mfn + i, order);
        if (i && head[i].u.free_order != FREE_ORDER_NONE)
            return heap_violation("block head hidden inside another block", mfn + i, order);
        if (ci & PGC_need_scrub)
            block_dirty++;
    }
    if (block_dirty && !(head->type_info & FREE_MAYBE_DIRTY))
        return heap_violation("dirty block without the dirty hint", mfn, order);
    *dirty += block_dirty;
    return true;
}

static bool check_block(const struct page_info *head, unsigned int order, unsigned long *dirty)
{
    unsigned long mfn = mfn_x(page_to_mfn(head)), n = 1UL << order;

    if (mfn >= max_page || n > max_page - mfn)
        return heap_violation("block outside the frame table", mfn, order);
    if (mfn & (n - 1))
        return heap_violation("block not aligned to its order", mfn, order);
    if (head->u.free_order != order)
        return heap_violation("head's free_order differs from its list", mfn, order);
    if (order < MAX_ORDER && free_buddy(mfn, order))
        return heap_violation("free buddies not merged", mfn, order);
    return check_block_frames(head, order, dirty);
}

/* One free list; the walk is bounded by the block count so a cycle cannot hang it. */
static bool check_list(unsigned int order, unsigned long *pages, unsigned long *dirty)
{
    const struct list_head *h = &free_list[order], *p;
    unsigned long blocks = 0;

    for (p = h->next; p != h; p = p->next) {
        if (!p || !p->next || p->next->prev != p)
            return heap_violation("free list links broken", 0, order);
        if (++blocks > nr_free_blocks[order])
            return count_violation("more blocks listed than counted", blocks,
                                   nr_free_blocks[order]);
        if (!check_block(list_entry(p, struct page_info, list), order, dirty))
            return false;
    }
    if (blocks != nr_free_blocks[order])
        return count_violation("fewer blocks listed than counted", blocks,
                               nr_free_blocks[order]);
    *pages += blocks << order;
    return true;
}

/* Every PGC_free frame of the table must be accounted for by some listed block. */
static bool check_frame_table(void)
{
    unsigned long free = 0;

    for (unsigned long m = 0; m < max_page; m++)
        if (mfn_to_page(_mfn(m))->count_info & PGC_free)
            free++;
    if (free != nr_free_pages)
        return count_violation("PGC_free frames in the table vs. the free count", free,
                               nr_free_pages);
    return true;
}

bool heap_check(void)
{
    unsigned long pages = 0, dirty = 0, flags;
    bool ok = true;

    flags = heap_lock_acquire();
    for (unsigned int o = 0; o <= MAX_ORDER && ok; o++)
        ok = check_list(o, &pages, &dirty);
    if (ok && pages != nr_free_pages)
        ok = count_violation("listed pages vs. the free count", pages, nr_free_pages);
    if (ok && dirty != nr_dirty_pages)
        ok = count_violation("dirty frames vs. the dirty count", dirty, nr_dirty_pages);
    if (ok && nr_free_pages > nr_total_pages)
        ok = count_violation("free pages vs. pages ever added", nr_free_pages,
                             nr_total_pages);
    if (ok)
        ok = check_frame_table();
    heap_lock_release(flags);
    return ok;
}

#ifdef ENSO_HOST_TEST
void heap_reset(void)
{
    unsigned long flags = heap_lock_acquire();

    for (unsigned int o = 0; o <= MAX_ORDER; o++) {
        list_init(&free_list[o]);
        nr_free_blocks[o] = 0;
    }
    nr_free_pages = nr_dirty_pages = nr_total_pages = 0;
    heap_lock_release(flags);
}
#endif
