/* x86-64 4-level page-table entries: one definition of the format, with accessors. */
#ifndef ASM_PAGE_H
#define ASM_PAGE_H

#include <enso/types.h>

typedef uint64_t pgentry_t;

#define _PAGE_PRESENT (1UL << 0)
#define _PAGE_RW (1UL << 1)
#define _PAGE_USER (1UL << 2)
#define _PAGE_PWT (1UL << 3)
#define _PAGE_PCD (1UL << 4)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY (1UL << 6)
#define _PAGE_PSE (1UL << 7)    /* L2/L3: maps a 2 MiB / 1 GiB page */
#define _PAGE_GLOBAL (1UL << 8)
#define _PAGE_NX (1UL << 63)
#define PADDR_MASK 0x000ffffffffff000UL

#define PAGE_TABLE_ENTRIES 512
#define L1_SHIFT 12
#define L2_SHIFT 21
#define L3_SHIFT 30
#define L4_SHIFT 39

static inline unsigned int pt_index(uint64_t va, unsigned int level)
{
    return (unsigned int)(va >> (L1_SHIFT + 9 * (level - 1))) & 511;
}
static inline paddr_t pte_paddr(pgentry_t e) { return e & PADDR_MASK; }
static inline bool pte_present(pgentry_t e) { return e & _PAGE_PRESENT; }
static inline pgentry_t pte_make(paddr_t pa, uint64_t flags) { return (pa & PADDR_MASK) | flags; }

/* Intermediate entries grant everything; the leaf decides. */
#define PTE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PTE_ENSO_TEXT (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL)
#define PTE_ENSO_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL | _PAGE_NX)
#define PTE_ENSO_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL | _PAGE_NX)
#define PTE_ENSO_UC (PTE_ENSO_RW | _PAGE_PCD | _PAGE_PWT)

#endif
