/* enso's own address space: page tables, boot allocator, ioremap. */
#ifndef ASM_MM_H
#define ASM_MM_H

#include <enso/memmap.h>
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

#endif
