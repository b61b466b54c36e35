/*
 * The buddy allocator of machine frames. Free memory is kept as naturally aligned blocks
 * of 2^order frames (order 0..MAX_ORDER), one free list per order, all guarded by one
 * IRQ-safe lock. Blocks are merged with their buddy whenever both halves are free, so
 * the free lists always hold maximal blocks.
 *
 * Frames handed out have count_info == 0 (no PGC_* flag, no references), type_info == 0,
 * u.owner == NULL and NULL list pointers; the caller owns them from then on.
 */
#ifndef ENSO_PAGE_ALLOC_H
#define ENSO_PAGE_ALLOC_H

#include <enso/types.h>
#include <enso/mm.h>

/* Largest block: 2^18 frames = 1 GiB. */
#define MAX_ORDER 18

/*
 * memflags for the allocation calls.
 * MEMF_no_scrub: the caller overwrites every byte anyway, so skip zeroing frames that
 *   may hold a previous owner's data. Never use it for memory a guest can read before
 *   enso has filled it.
 */
#define MEMF_no_scrub (1U << 0)
/*
 * MEMF_bits(n): every frame of the block lies below 2^n bytes (for a guest's devices
 * that address only n bits). 0 means no limit.
 */
#define MEMF_bits(n) ((unsigned int)(n) << 8)
#define MEMF_get_bits(f) (((f) >> 8) & 0xffU)

/*
 * Boot hands the free RAM range [start, start + nr) to the allocator. Any alignment; the
 * range is split into maximal aligned blocks. The frames are marked as needing a scrub
 * because firmware or the loader may have left data in them. Frames must be within
 * max_page and must not be free or reserved already (that BUGs).
 */
void heap_add_pages(mfn_t start, unsigned long nr);

/* 2^order contiguous, zeroed (unless MEMF_no_scrub) frames, or NULL; see MEMF_*. */
struct page_info *alloc_heap_pages(unsigned int order, unsigned int memflags);

/*
 * Give back a block obtained from alloc_heap_pages with the same order. need_scrub: the
 * frames may hold data that the next owner must not see. Freeing a frame that is free,
 * reserved or outside the frame table BUGs and leaves the allocator untouched.
 */
void free_heap_pages(struct page_info *pg, unsigned int order, bool need_scrub);

/*
 * enso's own memory, as direct-map pointers. The frames carry PGC_xenheap while
 * allocated; they are always scrubbed before reuse since they may hold enso's secrets.
 */
void *alloc_xenheap_pages(unsigned int order, unsigned int memflags);
void free_xenheap_pages(void *v, unsigned int order);

/* Statistics. */
unsigned long heap_free_pages(void);
unsigned long heap_total_pages(void); /* every frame ever given to heap_add_pages */
void heap_free_counts(unsigned long counts[MAX_ORDER + 1]); /* free blocks per order */
void heap_dump(void);

/*
 * Zero up to max_pages free frames that still need a scrub, so that later allocations
 * find them clean. Meant for the idle loop. Returns how many frames were zeroed.
 */
int heap_scrub_some(unsigned int max_pages);

/*
 * Verify every allocator invariant; printk the first violation and return false. Cost
 * is linear in the size of the frame table: for tests and self-tests only.
 */
bool heap_check(void);

/*
 * Called on allocator misuse (double free, foreign frame). The hypervisor panics; host
 * tests record the report, so every caller must leave the allocator consistent when it
 * returns.
 */
void page_alloc_bug(const char *msg, mfn_t mfn);

#ifdef ENSO_HOST_TEST
/* Forget every free block so that a test can start over with a new frame table. */
void heap_reset(void);
#endif

#endif
