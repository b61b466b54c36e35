/* enso's own address space: page tables, boot allocator, ioremap. */
#ifndef ASM_MM_H
#define ASM_MM_H

#include <enso/memmap.h>
#include <asm/layout.h>
#include <asm/page.h>

extern pgentry_t idle_l4[PAGE_TABLE_ENTRIES];

/* Builds the direct map, image mapping and frame table, switches CR3, fills the heap. */
void mm_init(struct memmap *map, const paddr_t (*reserved)[2], unsigned int nr_reserved);
/* Map [pa, pa+size) into the ioremap area; uncached unless cached is set. */
void *ioremap(paddr_t pa, size_t size, bool cached);
/* Virtual address -> machine address through the current page tables (debugging). */
bool mm_lookup(uint64_t va, paddr_t *pa, pgentry_t *leaf);
/* Physical page reserved below 1 MiB for the AP start-up trampoline. */
extern paddr_t trampoline_paddr;
extern pgentry_t trampoline_l4[PAGE_TABLE_ENTRIES];
extern unsigned long boot_free_mib, ram_mib;
pgentry_t *mm_l1_entry(uint64_t va);
/* Machine address of something inside enso's image (its static page tables, say). */
static inline paddr_t image_to_maddr(const void *p) { return (paddr_t)((uintptr_t)p - ENSO_VIRT_START); }
/*
 * Map [va, va+size) -> [pa, pa+size) in l4 with the largest pages that fit; new
 * intermediate tables get table_flags (which must include _PAGE_USER for anything a
 * guest may reach).
 */
void mm_map(pgentry_t *l4, uint64_t va, paddr_t pa, uint64_t size, uint64_t leaf_flags,
            uint64_t table_flags);

#endif
