/*
 * Page-table helpers for test kernels that build their own tables (guests/lib/pt.c).
 *
 * A PV guest cannot write a page table it uses: a table's frame may only be mapped
 * read-only. Tables are filled while their frames are still plain memory (through a
 * writable mapping at scratch_page, or an mmu_update of the untyped frame), then
 * pinned or referenced, and changed afterwards only by mmu_update. Frames come from
 * <guest/frames.h>; everything here takes and returns machine frame numbers.
 */
#ifndef GUEST_PT_H
#define GUEST_PT_H

#include <guest/guest.h>

/* P RW U A D: what the builder puts in its L2-L4 entries. */
#define PTE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define _PAGE_PWT 0x008UL
#define _PAGE_PCD 0x010UL
#define _PAGE_PAT 0x080UL          /* in an L1 entry; PSE in L2/L3 */
#define _PAGE_GLOBAL 0x100UL
#define _PAGE_AVAIL 0xe00UL        /* bits 9-11 */
#define _PAGE_AVAIL_HIGH (0x7ffUL << 52)
#define _PAGE_GUEST_KERNEL (1UL << 52) /* Xen's marker on kernel L1 entries */

/* One mmuext op: arg1 is an mfn or a linear address, as cmd wants. */
long mmuext1(unsigned int cmd, uint64_t arg1);
/* The same with arg2 (src_mfn, nr_ents or a vCPU bitmap address). */
long mmuext2(unsigned int cmd, uint64_t arg1, uint64_t arg2);
long pt_pin(unsigned int level, uint64_t mfn);
long pt_unpin(uint64_t mfn);

/* One mmu_update request: entry index of table mfn := val (cmd in the low bits). */
long pt_update_cmd(uint64_t mfn, unsigned int index, uint64_t val, unsigned int cmd);
static inline long pt_set(uint64_t mfn, unsigned int index, uint64_t val)
{
    return pt_update_cmd(mfn, index, val, MMU_NORMAL_PT_UPDATE);
}

/* The machine frame of a page of the image (or any address of the bootstrap region). */
uint64_t image_mfn(const void *p);

/*
 * scratch_page as a window onto any frame: scratch_map maps mfn there with
 * _PAGE_PRESENT | _PAGE_ACCESSED | flags (returns the update_va_mapping result);
 * scratch_restore puts scratch_page's own frame back.
 */
long scratch_map(uint64_t mfn, uint64_t flags);
void scratch_restore(void);

/* Entry index of table mfn, read through a read-only mapping at scratch_page; ~0 if
 * the frame cannot be mapped. */
uint64_t pt_read(uint64_t mfn, unsigned int index);

/* Whether mfn can be mapped writable now (no page-table type held on it). */
bool frame_writable(uint64_t mfn);

/*
 * The machine address of the L1 entry that maps va in the bootstrap page tables
 * (start_info.pt_base), or 0 if there is none.
 */
uint64_t boot_l1_slot(ulong va);

#endif
