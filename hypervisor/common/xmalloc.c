/*
 * Small-object heap.
 *
 * A page serving size class c is cut into PAGE_SIZE / class_size(c) objects starting at
 * offset 0, so every object is aligned to its (power-of-two) class size. All bookkeeping
 * lives in the page's struct page_info, none in the page itself:
 *   u.heap_tag  TAG_SMALL | class << TAG_CLASS_SHIFT | number of free objects
 *   type_info   address of the first free object (0 if none)
 * Free objects form a singly linked list through their first word; the rest of a free
 * object holds POISON, which lets xfree recognise a double free cheaply and lets
 * allocation notice writes to freed memory.
 *
 * Invariants under xmalloc_lock: a small page is on partial[class] exactly when its free
 * count is non-zero; a page whose objects are all free is handed back at once.
 * Allocations above the largest class get 2^order whole pages; the head page's tag is
 * TAG_LARGE | order and the other pages' TAG_LARGE_TAIL.
 *
 * Pages are obtained and released with xmalloc_lock dropped, so xmalloc_lock never nests
 * with the page allocator's lock.
 */
#include <enso/xmalloc.h>
#include <enso/page_alloc.h>
#include <enso/mm.h>
#include <enso/spinlock.h>
#include <enso/lib.h>

#define MIN_CLASS_SHIFT 4 /* 16 bytes */
#define NR_CLASSES 8      /* 16 .. 2048 bytes */
#define MAX_SMALL_SIZE (1UL << (MIN_CLASS_SHIFT + NR_CLASSES - 1))

#define TAG_KIND_MASK (0xfU << 28)
#define TAG_SMALL (1U << 28)
#define TAG_LARGE (2U << 28)
#define TAG_LARGE_TAIL (3U << 28)
#define TAG_CLASS_SHIFT 16
#define TAG_CLASS_MASK (0xfU << TAG_CLASS_SHIFT)
#define TAG_COUNT_MASK 0xffffU /* free objects (small) or order (large) */

#define POISON 0xe5e5e5e5e5e5e5e5UL

struct free_obj {
    struct free_obj *next;
    uint64_t poison[];
};

static DEFINE_SPINLOCK(xmalloc_lock);
static struct list_head partial[NR_CLASSES];
static bool lists_ready;
static size_t used_bytes;

/* A problem found under the lock, reported once the lock is dropped. */
struct report {
    const char *msg;
    const void *p;
};

static void report_set(struct report *r, const char *msg, const void *p)
{
    if (!r->msg) {
        r->msg = msg;
        r->p = p;
    }
}

static void report_flush(const struct report *r)
{
    if (r->msg)
        xmalloc_bug(r->msg, r->p);
}

static unsigned long xmalloc_lock_acquire(void)
{
    unsigned long flags = spin_lock_irqsave(&xmalloc_lock);

    if (unlikely(!lists_ready)) {
        for (unsigned int c = 0; c < NR_CLASSES; c++)
            list_init(&partial[c]);
        lists_ready = true;
    }
    return flags;
}

static size_t class_size(unsigned int c) { return (size_t)1 << (MIN_CLASS_SHIFT + c); }
static unsigned int objs_per_page(unsigned int c) { return (unsigned int)(PAGE_SIZE / class_size(c)); }

static unsigned int size_to_class(size_t size)
{
    unsigned int c = 0;

    while (class_size(c) < size)
        c++;
    return c;
}

static unsigned int tag_kind(const struct page_info *pg) { return pg->u.heap_tag & TAG_KIND_MASK; }
static unsigned int tag_count(const struct page_info *pg) { return pg->u.heap_tag & TAG_COUNT_MASK; }

static unsigned int small_class(const struct page_info *pg)
{
    return (pg->u.heap_tag & TAG_CLASS_MASK) >> TAG_CLASS_SHIFT;
}

static void set_small_tag(struct page_info *pg, unsigned int c, unsigned int nr_free)
{
    pg->u.heap_tag = TAG_SMALL | (c << TAG_CLASS_SHIFT) | nr_free;
}

static struct free_obj *free_head(const struct page_info *pg) { return (struct free_obj *)pg->type_info; }
static void set_free_head(struct page_info *pg, struct free_obj *o) { pg->type_info = (unsigned long)o; }

static void poison_obj(struct free_obj *o, size_t size)
{
    for (size_t i = 0; i < size / 8 - 1; i++)
        o->poison[i] = POISON;
}

static bool poison_intact(const struct free_obj *o, size_t size)
{
    for (size_t i = 0; i < size / 8 - 1; i++)
        if (o->poison[i] != POISON)
            return false;
    return true;
}

/* A free-list link must be NULL or the start of an object in the same page. */
static bool link_valid(const struct page_info *pg, size_t size, const struct free_obj *o)
{
    uintptr_t a = (uintptr_t)o;

    if (!o)
        return true;
    return (a & PAGE_MASK) == (uintptr_t)page_to_virt(pg) && !(a & (size - 1));
}

/* Cut a private page into free objects; it is published only afterwards. */
static void carve_page(void *va, unsigned int c)
{
    size_t size = class_size(c);
    unsigned int n = objs_per_page(c);
    struct page_info *pg = virt_to_page(va);

    for (unsigned int i = 0; i < n; i++) {
        struct free_obj *o = (struct free_obj *)((char *)va + i * size);

        o->next = i + 1 < n ? (struct free_obj *)((char *)o + size) : NULL;
        poison_obj(o, size);
    }
    set_small_tag(pg, c, n);
    set_free_head(pg, va);
}

static bool add_fresh_page(unsigned int c)
{
    /* Carving writes every byte, so the page allocator need not zero it first. */
    void *va = alloc_xenheap_pages(0, MEMF_no_scrub);
    unsigned long flags;

    if (!va)
        return false;
    carve_page(va, c);
    flags = xmalloc_lock_acquire();
    list_add(&virt_to_page(va)->list, &partial[c]);
    spin_unlock_irqrestore(&xmalloc_lock, flags);
    return true;
}

/*
 * A page whose free list is damaged is taken out of service: its free objects are
 * leaked rather than handed out twice.
 */
static void quarantine(struct page_info *pg, unsigned int c)
{
    list_del(&pg->list);
    set_free_head(pg, NULL);
    set_small_tag(pg, c, 0);
}

static void *take_object(struct page_info *pg, unsigned int c, struct report *r)
{
    size_t size = class_size(c);
    struct free_obj *o = free_head(pg);

    if (!o || !link_valid(pg, size, o) || !link_valid(pg, size, o->next)) {
        report_set(r, "xmalloc: free list corrupted", o ? (void *)o : page_to_virt(pg));
        quarantine(pg, c);
        return NULL;
    }
    if (!poison_intact(o, size))
        report_set(r, "xmalloc: freed object was written to", o);
    set_free_head(pg, o->next);
    set_small_tag(pg, c, tag_count(pg) - 1);
    if (!tag_count(pg))
        list_del(&pg->list);
    used_bytes += size;
    return o;
}

static void *alloc_small(unsigned int c)
{
    struct report r = { NULL, NULL };
    void *o = NULL;
    unsigned long flags;

    for (;;) {
        flags = xmalloc_lock_acquire();
        while (!o && !list_empty(&partial[c]))
            o = take_object(list_first_entry(&partial[c], struct page_info, list), c, &r);
        spin_unlock_irqrestore(&xmalloc_lock, flags);
        report_flush(&r);
        if (o || !add_fresh_page(c))
            return o;
        r.msg = NULL;
    }
}

static void *alloc_large(size_t size)
{
    unsigned int order = 0;
    struct page_info *pg;
    unsigned long flags;
    void *va;

    while ((PAGE_SIZE << order) < size) {
        if (order == MAX_ORDER)
            return NULL;
        order++;
    }
    va = alloc_xenheap_pages(order, 0);
    if (!va)
        return NULL;
    pg = virt_to_page(va);
    pg->u.heap_tag = TAG_LARGE | order;
    for (unsigned long i = 1; i < (1UL << order); i++)
        pg[i].u.heap_tag = TAG_LARGE_TAIL;
    flags = xmalloc_lock_acquire();
    used_bytes += PAGE_SIZE << order;
    spin_unlock_irqrestore(&xmalloc_lock, flags);
    return va;
}

void *xmalloc_bytes(size_t size)
{
    if (size <= MAX_SMALL_SIZE)
        return alloc_small(size_to_class(size));
    return alloc_large(size);
}

void *xzalloc_bytes(size_t size)
{
    void *p = xmalloc_bytes(size);

    if (p)
        memset(p, 0, size);
    return p;
}

void *xmalloc_array_bytes(size_t size, size_t n, bool zero)
{
    size_t total;

    if (__builtin_mul_overflow(size, n, &total))
        return NULL;
    return zero ? xzalloc_bytes(total) : xmalloc_bytes(total);
}

/* The xenheap page holding p, or NULL if p cannot have come from xmalloc. */
static struct page_info *owning_page(const void *p)
{
    struct page_info *pg;
    mfn_t mfn;

    if ((uintptr_t)p < DIRECTMAP_BASE)
        return NULL;
    mfn = virt_to_mfn(p);
    if (!mfn_valid(mfn))
        return NULL;
    pg = mfn_to_page(mfn);
    if ((pg->count_info & (PGC_xenheap | PGC_free)) != PGC_xenheap)
        return NULL;
    return pg;
}

/* Is o already on its page's free list? The walk is bounded by the objects per page. */
static bool on_free_list(const struct page_info *pg, unsigned int c, const struct free_obj *o)
{
    const struct free_obj *f = free_head(pg);

    for (unsigned int n = 0; f && n < objs_per_page(c); n++, f = f->next) {
        if (f == o)
            return true;
        if (!link_valid(pg, class_size(c), f->next))
            return false;
    }
    return false;
}

/* Under the lock. Returns true when the page became entirely free and left the lists. */
static bool free_small(struct page_info *pg, void *p, struct report *r)
{
    unsigned int c = small_class(pg), nr_free = tag_count(pg);
    size_t size = class_size(c);
    struct free_obj *o = p;

    if ((uintptr_t)p & (size - 1)) {
        report_set(r, "xfree: pointer inside an object", p);
        return false;
    }
    /* Poison is only a hint (live data may match it); the list walk decides. */
    if (poison_intact(o, size) && link_valid(pg, size, o->next) && on_free_list(pg, c, o)) {
        report_set(r, "xfree: double free", p);
        return false;
    }
    o->next = free_head(pg);
    poison_obj(o, size);
    set_free_head(pg, o);
    set_small_tag(pg, c, ++nr_free);
    used_bytes -= size;
    if (nr_free == 1)
        list_add(&pg->list, &partial[c]);
    if (nr_free < objs_per_page(c))
        return false;
    list_del(&pg->list);
    pg->u.heap_tag = 0;
    pg->type_info = 0;
    return true;
}

/* Under the lock. Returns the order to free, or -1 if p is not a large allocation. */
static int free_large(struct page_info *pg, void *p, struct report *r)
{
    unsigned int order = tag_count(pg);

    if (((uintptr_t)p & (PAGE_SIZE - 1)) || order > MAX_ORDER) {
        report_set(r, "xfree: pointer inside a large allocation", p);
        return -1;
    }
    for (unsigned long i = 0; i < (1UL << order); i++)
        pg[i].u.heap_tag = 0;
    used_bytes -= PAGE_SIZE << order;
    return (int)order;
}

void xfree(void *p)
{
    struct report r = { NULL, NULL };
    struct page_info *pg;
    unsigned long flags;
    int large_order = -1;
    bool empty = false;

    if (!p)
        return;
    if ((uintptr_t)p & 15) {
        xmalloc_bug("xfree: misaligned pointer", p);
        return;
    }
    pg = owning_page(p);
    if (!pg) {
        xmalloc_bug("xfree: pointer not from xmalloc", p);
        return;
    }
    flags = xmalloc_lock_acquire();
    if (tag_kind(pg) == TAG_SMALL)
        empty = free_small(pg, p, &r);
    else if (tag_kind(pg) == TAG_LARGE)
        large_order = free_large(pg, p, &r);
    else if (tag_kind(pg) == TAG_LARGE_TAIL)
        report_set(&r, "xfree: pointer inside a large allocation", p);
    else
        report_set(&r, "xfree: pointer not from xmalloc", p);
    spin_unlock_irqrestore(&xmalloc_lock, flags);
    report_flush(&r);
    if (empty)
        free_xenheap_pages(page_to_virt(pg), 0);
    if (large_order >= 0)
        free_xenheap_pages(p, (unsigned int)large_order);
}

size_t xmalloc_used_bytes(void)
{
    return READ_ONCE(used_bytes);
}
