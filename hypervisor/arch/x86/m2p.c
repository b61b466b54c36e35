/*
 * The M2P table lives in 2 MiB chunks of enso memory, mapped twice with 2 MiB pages:
 * writable for enso, and read-only user-accessible in PML4 slot 256, the one part of
 * the hypervisor's hole a PV guest may read (Linux reads it straight away at boot).
 * The idle L4's slot 256 is what every guest L4 copies, so this runs before any domain.
 */
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <asm/m2p.h>
#include <asm/mm.h>

#define M2P_CHUNK_ORDER 9 /* 2 MiB */
#define M2P_CHUNK (PAGE_SIZE << M2P_CHUNK_ORDER)

void m2p_init(void)
{
    unsigned long bytes = ROUNDUP(max_page * sizeof(unsigned long), M2P_CHUNK);
    const uint64_t ro_leaf = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
    const uint64_t ro_table = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
                              _PAGE_DIRTY;

    for (unsigned long off = 0; off < bytes; off += M2P_CHUNK) {
        void *chunk = alloc_xenheap_pages(M2P_CHUNK_ORDER, MEMF_no_scrub);
        paddr_t pa;

        if (!chunk)
            panic("no memory for the M2P table (%lu MiB)", bytes >> 20);
        memset(chunk, 0xff, M2P_CHUNK); /* every entry M2P_INVALID */
        pa = virt_to_maddr(chunk);
        mm_map(idle_l4, RDWR_MPT_VIRT_START + off, pa, M2P_CHUNK, PTE_ENSO_RW, PTE_TABLE);
        mm_map(idle_l4, RO_MPT_VIRT_START + off, pa, M2P_CHUNK, ro_leaf, ro_table);
    }
    printk("m2p: %lu MiB for %lu frames, read-only for guests at %#lx\n", bytes >> 20,
           max_page, RO_MPT_VIRT_START);
}
