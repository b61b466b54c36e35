/*
 * Machine memory: the frame table (one struct page_info per machine frame) and the
 * buddy allocator that hands out frames.
 */
#ifndef ENSO_MM_H
#define ENSO_MM_H

#include <enso/types.h>
#include <enso/list.h>
#include <asm/layout.h>

struct domain;

/*
 * count_info: flag bits at the top, a general reference count below.
 * PGC_free: the frame is in the buddy allocator; on the first frame of a free block,
 *   free_order holds the block's order.
 * PGC_need_scrub: the frame may hold another owner's data and must be zeroed before it
 *   is handed out again. Tracked per frame, so merging blocks needs no care.
 * PGC_reserved: never given to the allocator (firmware, enso's image, boot modules).
 * PGC_allocated: a domain's frame that the domain still holds (see common/domain.c).
 */
#define PGC_free (1UL << 63)
#define PGC_need_scrub (1UL << 62)
#define PGC_reserved (1UL << 61)
#define PGC_xenheap (1UL << 60)
#define PGC_allocated (1UL << 59) /* the domain's allocation reference is among the count */
#define PGC_count_mask ((1UL << 48) - 1)

/*
 * type_info (PV guests): the frame's type in the top bits, then pinned and validated,
 * and the type reference count at the bottom. A frame has one type at a time; see
 * arch/x86/pv for the rules.
 */
#define PGT_type_shift 60
#define PGT_none (0UL << PGT_type_shift)
#define PGT_l1_page_table (1UL << PGT_type_shift)
#define PGT_l2_page_table (2UL << PGT_type_shift)
#define PGT_l3_page_table (3UL << PGT_type_shift)
#define PGT_l4_page_table (4UL << PGT_type_shift)
#define PGT_seg_desc_page (5UL << PGT_type_shift)
#define PGT_writable_page (7UL << PGT_type_shift)
#define PGT_type_mask (7UL << PGT_type_shift)
#define PGT_pinned (1UL << 59)
#define PGT_validated (1UL << 58)
#define PGT_count_mask ((1UL << 32) - 1)

struct page_info {
    struct list_head list;    /* free list, or the owner's page list */
    unsigned long count_info; /* PGC_* flags and general reference count */
    unsigned long type_info;  /* page type and type count (PV page tables, later) */
    union {
        struct domain *owner; /* while allocated to a domain */
        uint32_t free_order;  /* first frame of a free block */
        uint32_t heap_tag;    /* xmalloc's bookkeeping for enso's own pages */
    } u;
};

/* Highest machine frame number + 1 that the frame table covers. */
extern unsigned long max_page;

static inline struct page_info *mfn_to_page(mfn_t m) { return FRAME_TABLE_BASE + mfn_x(m); }
static inline mfn_t page_to_mfn(const struct page_info *pg) { return _mfn((unsigned long)(pg - FRAME_TABLE_BASE)); }
static inline void *mfn_to_virt(mfn_t m) { return (void *)(DIRECTMAP_BASE + (mfn_x(m) << PAGE_SHIFT)); }
static inline void *maddr_to_virt(paddr_t a) { return (void *)(DIRECTMAP_BASE + a); }
static inline paddr_t virt_to_maddr(const void *v) { return (paddr_t)((uintptr_t)v - DIRECTMAP_BASE); }
static inline mfn_t virt_to_mfn(const void *v) { return _mfn(virt_to_maddr(v) >> PAGE_SHIFT); }
static inline void *page_to_virt(const struct page_info *pg) { return mfn_to_virt(page_to_mfn(pg)); }
static inline struct page_info *virt_to_page(const void *v) { return mfn_to_page(virt_to_mfn(v)); }
static inline bool mfn_valid(mfn_t m) { return mfn_x(m) < max_page; }

/*
 * General references to a domain's frame (arch/x86/pv/page_types.c): get_page fails
 * unless d owns the frame and it is in use; the put of the last reference frees it.
 */
bool get_page(struct page_info *pg, struct domain *d);
void put_page(struct page_info *pg);

#endif
