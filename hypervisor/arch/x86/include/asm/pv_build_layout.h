/*
 * Where a 64-bit PV domain's initial pieces go, in virtual and pseudo-physical space
 * (arch/x86/pv/build_layout.c): pure arithmetic, shared by the builder and its host
 * unit test. Domain 0 is laid out as Xen 4.17's own dom0 builder does it, any other
 * domain as Xen's toolstack (libxenguest) does it; the two differ in small ways, each
 * noted where it is computed.
 */
#ifndef ASM_PV_BUILD_LAYOUT_H
#define ASM_PV_BUILD_LAYOUT_H

#include <enso/types.h>

struct pv_layout_req {
    uint64_t virt_base;             /* VIRT_BASE: the bootstrap region starts here */
    uint64_t kern_start, kern_end;  /* the loaded image, [virt_kstart, virt_kend) */
    size_t initrd_len;              /* 0: no initrd */
    bool initrd_by_pfn;             /* MOD_START_PFN: the initrd stays unmapped */
    bool has_p2m_base;              /* an INIT_P2M note */
    uint64_t p2m_base;
    unsigned long nr_pages;
    bool initial_domain;            /* domain 0: Xen's builder, else the toolstack's */
};

struct pv_layout {
    uint64_t v_start, v_end;                /* the bootstrap region */
    uint64_t kern_start, kern_end;
    uint64_t initrd_start, initrd_end;      /* inside the region, or 0 */
    uint64_t p2m_start, p2m_end;            /* the p2m list: in the region or separate */
    uint64_t si_start, store_start, cons_start;
    uint64_t pt_start, pt_end, stack_start;
    unsigned long nr_pt_frames;             /* the region's tables only */
    unsigned long initrd_pfn, initrd_pages; /* MOD_START_PFN: outside the region */
    bool dom0_order;                        /* allocate as Xen's dom0 builder does */
    bool p2m_separate;                      /* INIT_P2M honoured: own mapping */
    bool p2m_base_ignored;                  /* domU INIT_P2M >= VIRT_BASE: as libxenguest */
    unsigned long first_p2m_pfn, nr_p2m_frames;  /* for start_info */
    unsigned long p2m_data_frames;          /* separate list: frames holding entries */
    unsigned long p2m_new_tables[4];        /* [1..3]: its own L1, L2, L3 tables */
};

/*
 * Fill *l for *rq. Returns 0, or -EINVAL / -ENOMEM with *why naming the problem (an
 * INIT_P2M address that is not page aligned, not canonical, in the hypervisor's range or
 * overlapping the bootstrap region; too little memory for the region or the p2m list).
 */
int pv_layout_compute(const struct pv_layout_req *rq, struct pv_layout *l,
                      const char **why);

/*
 * Mapping a range one page at a time: the pfn each page maps and, where a page is the
 * first under a table that is not there yet, the pfn that becomes that table. Two
 * ranges are walked: the bootstrap region (pfns from 0; its tables follow the L4 at
 * pt_start) and a separate p2m list (its pages and tables from first_p2m_pfn; tables
 * the region already has are shared). The order frames are taken in is the builder's:
 * Xen's dom0 builder takes each as it goes (the region's L1, L2, L3 bottom-up, the
 * list's L3, L2, L1 top-down, then its page), the toolstack groups them by level.
 */
#define PV_NO_TABLE (~0UL)

struct pv_walk {
    uint64_t start;                   /* first va */
    unsigned long pages, page;        /* pages to map, index of the next one */
    unsigned long data_pfn;           /* pfn of the next page when not taken */
    bool take_data;                   /* pages take frames like tables (the list) */
    bool bottom_up;                   /* L1 before L2 before L3 */
    bool one_sequence;                /* every frame from next[0], in walk order */
    uint64_t have_lo[4], have_hi[4];  /* [1..3]: indices of tables already there */
    unsigned long next[4];            /* next pfn: [0] pages, [1..3] L1-L3 tables */
};

struct pv_walk_step {
    uint64_t va;
    unsigned long pfn;                /* the frame va maps */
    unsigned long table_pfn[4];       /* [1..3]: new table for va, or PV_NO_TABLE */
};

void pv_walk_region(struct pv_walk *w, const struct pv_layout *l);
void pv_walk_p2m(struct pv_walk *w, const struct pv_layout *l); /* p2m_separate only */
/* The next page into *s; false once all are done. */
bool pv_walk_next(struct pv_walk *w, struct pv_walk_step *s);

#endif
