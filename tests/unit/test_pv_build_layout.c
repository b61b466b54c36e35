/*
 * Tests of the PV domain layout (hypervisor/arch/x86/pv/build_layout.c): the bootstrap
 * region, the pfns past it and a separate (INIT_P2M) p2m list, for domain 0 as Xen
 * 4.17's builder lays it out and for other domains as its toolstack does. The dom0
 * numbers of the test kernels are those guests/README.md records from real Xen.
 */
#include <enso/errno.h>
#include <asm/pv_build_layout.h>
#include "harness.h"

#define VBASE 0xffffffff80000000UL
#define P2M 0x8000000000UL           /* Debian's Linux: INIT_P2M */
#define KERNEL_LEN 0x23000UL         /* a test kernel's image */

static struct pv_layout L;
static const char *why;

static struct pv_layout_req req(bool dom0, unsigned long pages)
{
    struct pv_layout_req r = {
        .virt_base = VBASE, .kern_start = VBASE, .kern_end = VBASE + KERNEL_LEN - 0x800,
        .nr_pages = pages, .initial_domain = dom0,
    };
    return r;
}

static struct pv_layout_req req_p2m(bool dom0, unsigned long pages, uint64_t base)
{
    struct pv_layout_req r = req(dom0, pages);

    r.has_p2m_base = true;
    r.p2m_base = base;
    return r;
}

static int layout(struct pv_layout_req r)
{
    why = "";
    return pv_layout_compute(&r, &L, &why);
}

/* A walk flattened: the pfns it hands out, in order (tables and, for the list, pages). */
static unsigned long order[8192];
static unsigned int n_order;

static void walk_flat(struct pv_walk *w, bool pages)
{
    struct pv_walk_step s;

    n_order = 0;
    while (pv_walk_next(w, &s) && n_order + 4 <= 8192) {
        for (unsigned int i = 1; i <= 3; i++) {
            unsigned int lvl = w->bottom_up ? i : 4 - i;

            if (s.table_pfn[lvl] != PV_NO_TABLE)
                order[n_order++] = s.table_pfn[lvl];
        }
        if (pages)
            order[n_order++] = s.pfn;
    }
}

static void walk_all(void)
{
    struct pv_walk w;

    pv_walk_p2m(&w, &L);
    walk_flat(&w, true);
}

/* Every frame of the separate list once, all inside [first_p2m_pfn, + nr_p2m_frames). */
static bool walk_covers_exactly(void)
{
    static unsigned char seen[1 << 16];

    walk_all();
    if (n_order != L.nr_p2m_frames)
        return false;
    memset(seen, 0, sizeof(seen));
    for (unsigned int i = 0; i < n_order; i++) {
        unsigned long off = order[i] - L.first_p2m_pfn;

        if (order[i] < L.first_p2m_pfn || off >= L.nr_p2m_frames || off >= sizeof(seen) ||
            seen[off])
            return false;
        seen[off] = 1;
    }
    return true;
}

TEST(dom0_without_init_p2m_is_xens_layout)
{
    CHECK_EQ(layout(req(true, 16384)), 0);
    /* guests/README.md: kernel 0-0x23000, p2m -0x43000, start_info 0x43000, tables
       0x44000-0x49000, stack top 0x4a000, end 0x400000, first_p2m_pfn 0x400. */
    CHECK_EQ(L.p2m_start, VBASE + 0x23000);
    CHECK_EQ(L.p2m_end, VBASE + 0x43000);
    CHECK_EQ(L.si_start, VBASE + 0x43000);
    CHECK_EQ(L.pt_start, VBASE + 0x44000);
    CHECK_EQ(L.nr_pt_frames, 5);
    CHECK_EQ(L.stack_start + 0x1000, VBASE + 0x4a000);
    CHECK_EQ(L.v_end, VBASE + 0x400000);
    CHECK(!L.p2m_separate);
    CHECK_EQ(L.first_p2m_pfn, 0x400);
    CHECK_EQ(L.nr_p2m_frames, 0);
    CHECK_EQ(L.store_start, 0);
}

TEST(dom0_init_p2m_leaves_the_region)
{
    CHECK_EQ(layout(req_p2m(true, 16384, P2M)), 0);
    CHECK(L.p2m_separate);
    CHECK_EQ(L.p2m_start, P2M);
    CHECK_EQ(L.p2m_end, P2M + 16384 * 8);
    CHECK_EQ(L.si_start, VBASE + 0x23000);
    CHECK_EQ(L.pt_start, VBASE + 0x24000);
    CHECK_EQ(L.nr_pt_frames, 5);
    CHECK_EQ(L.stack_start, VBASE + 0x29000);
    CHECK_EQ(L.v_end, VBASE + 0x400000);
    /* 32 pages of list plus an L3, L2 and L1 of its own, after the 4 MiB block. */
    CHECK_EQ(L.first_p2m_pfn, 0x400);
    CHECK_EQ(L.p2m_data_frames, 32);
    CHECK_EQ(L.nr_p2m_frames, 35);
}

TEST(dom0_walk_is_xens_allocation_order)
{
    CHECK_EQ(layout(req_p2m(true, 16384, P2M)), 0);
    CHECK(walk_covers_exactly());
    /* L3, L2, L1, then the pages: pfn = first + 3 + page. */
    for (unsigned int i = 0; i < n_order; i++)
        CHECK_EQ(order[i], 0x400 + i);
    {
        struct pv_walk w;
        struct pv_walk_step s;

        pv_walk_p2m(&w, &L);
        CHECK(pv_walk_next(&w, &s));
        CHECK_EQ(s.va, P2M);
        CHECK_EQ(s.table_pfn[3], 0x400);
        CHECK_EQ(s.table_pfn[2], 0x401);
        CHECK_EQ(s.table_pfn[1], 0x402);
        CHECK_EQ(s.pfn, 0x403);
        CHECK(pv_walk_next(&w, &s));
        CHECK_EQ(s.va, P2M + 0x1000);
        CHECK_EQ(s.table_pfn[1], PV_NO_TABLE);
        CHECK_EQ(s.pfn, 0x404);
    }
}

TEST(dom0_large_list_interleaves_l1s)
{
    /* 4 GiB: 2048 pages of list under 4 L1s, each L1 taken just before its first page. */
    CHECK_EQ(layout(req_p2m(true, 1UL << 20, P2M)), 0);
    CHECK_EQ(L.p2m_data_frames, 2048);
    CHECK_EQ(L.p2m_new_tables[1], 4);
    CHECK_EQ(L.p2m_new_tables[2], 1);
    CHECK_EQ(L.p2m_new_tables[3], 1);
    CHECK_EQ(L.nr_p2m_frames, 2054);
    CHECK(walk_covers_exactly());
    CHECK_EQ(order[3], L.first_p2m_pfn + 3);        /* page 0 */
    CHECK_EQ(order[3 + 512], L.first_p2m_pfn + 515); /* the second L1 */
    CHECK_EQ(order[4 + 512], L.first_p2m_pfn + 516); /* page 512 */
}

TEST(domu_layout_and_walk_order)
{
    /* The toolstack: start_info, xenstore and console pages, the tables, the stack. */
    CHECK_EQ(layout(req(false, 8192)), 0);
    CHECK_EQ(L.p2m_start, VBASE + 0x23000);
    CHECK_EQ(L.si_start, VBASE + 0x33000);
    CHECK_EQ(L.store_start, VBASE + 0x34000);
    CHECK_EQ(L.cons_start, VBASE + 0x35000);
    CHECK_EQ(L.pt_start, VBASE + 0x36000);
    CHECK_EQ(L.v_end, VBASE + 0x400000);
    CHECK_EQ(L.first_p2m_pfn, 0); /* left 0 without INIT_P2M */
    CHECK_EQ(L.nr_p2m_frames, 0);

    CHECK_EQ(layout(req_p2m(false, 8192, P2M)), 0);
    CHECK_EQ(L.si_start, VBASE + 0x23000);
    CHECK_EQ(L.pt_start, VBASE + 0x26000);
    CHECK_EQ(L.first_p2m_pfn, 0x400); /* right after the region */
    CHECK_EQ(L.nr_p2m_frames, 16 + 3);
    CHECK(walk_covers_exactly());
    /* The list's pages first, then its L3, L2, L1: walk order L3 L2 L1 page0 ... */
    CHECK_EQ(order[0], 0x400 + 16);
    CHECK_EQ(order[1], 0x400 + 17);
    CHECK_EQ(order[2], 0x400 + 18);
    for (unsigned int i = 0; i < 16; i++)
        CHECK_EQ(order[3 + i], 0x400 + i);
}

TEST(domu_large_list_tables_by_level)
{
    CHECK_EQ(layout(req_p2m(false, 1UL << 20, P2M)), 0);
    CHECK(walk_covers_exactly());
    /* pages 0..2047, L3 2048, L2 2049, L1s 2050-2053 in address order */
    CHECK_EQ(order[0], L.first_p2m_pfn + 2048);
    CHECK_EQ(order[1], L.first_p2m_pfn + 2049);
    CHECK_EQ(order[2], L.first_p2m_pfn + 2050);
    CHECK_EQ(order[3], L.first_p2m_pfn);
    CHECK_EQ(order[3 + 512], L.first_p2m_pfn + 2051);
    CHECK_EQ(order[4 + 512], L.first_p2m_pfn + 512);
}

TEST(domu_ignores_init_p2m_above_virt_base_as_the_toolstack)
{
    CHECK_EQ(layout(req_p2m(false, 8192, 0xffffffffc0000000UL)), 0);
    CHECK(L.p2m_base_ignored);
    CHECK(!L.p2m_separate);
    CHECK_EQ(L.p2m_start, VBASE + 0x23000);
    CHECK_EQ(L.nr_p2m_frames, 0);
    /* Domain 0 takes it: in the region's L4 slot and L3, with an L2 and L1 of its own. */
    CHECK_EQ(layout(req_p2m(true, 16384, 0xffffffffc0000000UL)), 0);
    CHECK(L.p2m_separate);
    CHECK_EQ(L.p2m_new_tables[3], 0);
    CHECK_EQ(L.p2m_new_tables[2], 1);
    CHECK_EQ(L.p2m_new_tables[1], 1);
    CHECK_EQ(L.nr_p2m_frames, 34);
    CHECK(walk_covers_exactly());
    CHECK_EQ(order[0], 0x400); /* L2 first: the L3 is the region's */
}

TEST(list_sharing_the_regions_l2)
{
    /* 8 MiB above the region start: same 1 GiB (L2 table), its own 2 MiB (L1). */
    CHECK_EQ(layout(req_p2m(true, 16384, VBASE + 0x800000)), 0);
    CHECK_EQ(L.p2m_new_tables[3], 0);
    CHECK_EQ(L.p2m_new_tables[2], 0);
    CHECK_EQ(L.p2m_new_tables[1], 1);
    CHECK_EQ(L.nr_p2m_frames, 33);
    CHECK(walk_covers_exactly());
}

static bool refused(struct pv_layout_req r, int rc, const char *part)
{
    return layout(r) == rc && strstr(why, part);
}

TEST(bad_init_p2m_addresses_are_refused_by_name)
{
    CHECK(refused(req_p2m(true, 16384, P2M + 8), -EINVAL, "not page aligned"));
    CHECK(refused(req_p2m(false, 16384, P2M + 8), -EINVAL, "not page aligned"));
    CHECK(refused(req_p2m(true, 16384, 0xffff800000000000UL), -EINVAL, "hypervisor"));
    CHECK(refused(req_p2m(true, 16384, 0xffff87fffffff000UL), -EINVAL, "hypervisor"));
    CHECK(refused(req_p2m(false, 16384, 0xffff880000000000UL - 0x1000), -EINVAL,
                  "hypervisor"));
    CHECK(refused(req_p2m(true, 16384, 0x0000800000000000UL), -EINVAL, "canonical"));
    CHECK(refused(req_p2m(true, 16384, 0x00007ffffffff000UL), -EINVAL, "canonical"));
    CHECK(refused(req_p2m(true, 16384, 0xfffffffffffff000UL), -EINVAL, "canonical"));
    /* Right after the enso range it is fine. */
    CHECK_EQ(layout(req_p2m(true, 16384, 0xffff880000000000UL)), 0);
}

TEST(list_touching_the_region)
{
    uint64_t below = VBASE - 16384 * 8; /* ends exactly at v_start */

    /* Xen's dom0 builder counts touching as overlapping, at both ends. */
    CHECK(refused(req_p2m(true, 16384, below), -EINVAL, "overlaps the bootstrap region"));
    CHECK(refused(req_p2m(true, 16384, VBASE + 0x400000), -EINVAL, "overlaps the boot"));
    CHECK_EQ(layout(req_p2m(true, 16384, below - 0x1000)), 0);
    CHECK_EQ(layout(req_p2m(true, 16384, VBASE + 0x401000)), 0);
    /* The toolstack only refuses a real overlap. */
    CHECK_EQ(layout(req_p2m(false, 16384, below)), 0);
    CHECK(refused(req_p2m(false, 16384, below + 0x1000), -EINVAL, "overlaps the boot"));
    /* Running from below into the kernel. */
    CHECK(refused(req_p2m(true, 16384, VBASE - 0x1000), -EINVAL, "overlaps the bootstrap"));
}

TEST(memory_for_the_list)
{
    /* dom0: 0x400 pfns of block, then 3 pages of list and 3 tables. */
    CHECK_EQ(layout(req_p2m(true, 0x406, P2M)), 0);
    CHECK_EQ(L.nr_p2m_frames, 6);
    CHECK(refused(req_p2m(true, 0x405, P2M), -ENOMEM, "p2m list"));
    /* Without the note the same memory is enough. */
    CHECK_EQ(layout(req(true, 0x405)), 0);
}

TEST(dom0_power_of_two_block_and_initrd)
{
    struct pv_layout_req r = req(true, 16384);

    /* A 9 MiB image: region 12 MiB (0xc00 pages), block 0x1000. */
    r.kern_end = VBASE + 0x900000;
    r.initrd_len = 5 * 4096 - 100;
    r.initrd_by_pfn = true;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.v_end - L.v_start, 0xc00000);
    CHECK_EQ(L.initrd_pfn, 0x1000);
    CHECK_EQ(L.initrd_pages, 5);
    CHECK_EQ(L.first_p2m_pfn, 0x1005);
    /* The toolstack puts it right after the region. */
    r.initial_domain = false;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.initrd_pfn, (L.v_end - L.v_start) >> 12);
    CHECK_EQ(L.first_p2m_pfn, 0);
    r.has_p2m_base = true;
    r.p2m_base = P2M;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.first_p2m_pfn, L.initrd_pfn + 5);
    /* Xen's dom0 needs the whole block: 0xc00 pages are not enough for it. */
    r = req(true, 0xfff);
    r.kern_end = VBASE + 0x900000;
    CHECK_EQ(layout(r), -ENOMEM);
    r.nr_pages = 0x1000;
    CHECK_EQ(layout(r), 0);
}

TEST(mapped_initrd_counts_outside_the_block)
{
    struct pv_layout_req r = req(true, 16384);

    /* kernel + 5 MiB initrd in the region: 0x800 pages, the initrd's 0x500 aside. */
    r.initrd_len = 0x500000;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.initrd_start, VBASE + 0x23000);
    CHECK_EQ(L.v_end - L.v_start, 0x800000);
    CHECK_EQ(L.first_p2m_pfn, 0x400 + 0x500);
}

TEST(region_end_rounding)
{
    struct pv_layout_req r = req(true, 16384);

    /* dom0: the stack ending 512 KiB before a boundary still ends the region there. */
    r.kern_end = VBASE + 0x400000 - 0x80000 - 0x1000 - 5 * 0x1000 - 0x1000 - 0x20000;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.stack_start + 0x1000, VBASE + 0x380000);
    CHECK_EQ(L.v_end, VBASE + 0x400000);
    /* One page more and it moves by 4 MiB. */
    r.kern_end += 0x1000;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.v_end, VBASE + 0x800000);
    CHECK_EQ(L.nr_pt_frames, 7); /* the tables for 8 MiB */
    /* Tables are counted for the final end: a region past 1 GiB needs a second L2. */
    r.kern_end = VBASE + 0x3ff00000;
    r.nr_pages = 1UL << 20;
    CHECK_EQ(layout(r), 0);
    CHECK_EQ(L.v_end, VBASE + 0x40c00000);
    CHECK_EQ(L.nr_pt_frames, 1 + 1 + 2 + 0x40c00000 / 0x200000);
}

TEST(hostile_sizes)
{
    struct pv_layout_req r = req(true, 16384);

    r.kern_start = VBASE + 0x800; /* not page aligned with VIRT_BASE */
    CHECK(refused(r, -EINVAL, "page aligned"));
    r = req(true, 16384);
    r.kern_end = ~0UL;
    CHECK_EQ(layout(r), -ENOMEM);
    r = req(false, ~0UL);
    CHECK_EQ(layout(r), -ENOMEM);
    r = req_p2m(true, 1UL << 30, P2M); /* 4 TiB: the region may near the top, not wrap */
    r.kern_end = VBASE + 0x7ff00000;
    CHECK_EQ(layout(r), -ENOMEM);
    r.kern_end = VBASE + 0x7f000000;
    CHECK_EQ(layout(r), 0);
    CHECK(L.v_end > L.v_start);
    r = req(false, 16384);
    r.initrd_len = ~0UL;
    CHECK_EQ(layout(r), -ENOMEM);
    r.initrd_by_pfn = true;
    CHECK_EQ(layout(r), -ENOMEM);
    r.initrd_len = 16384UL * 4096 - 0x400000 + 1; /* one byte too many after the region */
    CHECK(refused(r, -ENOMEM, "initrd"));
    r.initrd_len--;
    CHECK_EQ(layout(r), 0);
}

/* The region's tables after the L4: Xen's dom0 builder takes an L1, then the L2 and L3
 * it needs (bottom-up), and another L1 per 2 MiB; the toolstack groups them by level. */
TEST(region_table_order)
{
    struct pv_walk w;
    struct pv_walk_step s;
    unsigned long pt = 0x24; /* pfn of the L4 with INIT_P2M */
    unsigned long pages = 0;

    CHECK_EQ(layout(req_p2m(true, 16384, P2M)), 0);
    pv_walk_region(&w, &L);
    walk_flat(&w, false);
    CHECK_EQ(n_order, 4);
    CHECK_EQ(order[0], pt + 1); /* L1 for the first 2 MiB */
    CHECK_EQ(order[1], pt + 2); /* L2 */
    CHECK_EQ(order[2], pt + 3); /* L3 */
    CHECK_EQ(order[3], pt + 4); /* L1 for the second 2 MiB */
    /* Each page maps its own pfn. */
    pv_walk_region(&w, &L);
    while (pv_walk_next(&w, &s)) {
        CHECK_EQ(s.pfn, (s.va - VBASE) >> 12);
        pages++;
    }
    CHECK_EQ(pages, 0x400);

    CHECK_EQ(layout(req_p2m(false, 16384, P2M)), 0);
    pt = 0x26;
    pv_walk_region(&w, &L);
    walk_flat(&w, false);
    CHECK_EQ(n_order, 4);
    for (unsigned int i = 0; i < 4; i++)
        CHECK_EQ(order[i], pt + 1 + i); /* L3, L2, L1, L1 */
}

TEST(region_table_order_past_1g)
{
    struct pv_layout_req r = req(false, 1UL << 20);
    unsigned long pt;

    /* 2 L2s and 518 L1s: the toolstack's are L3, L2, L2, L1... */
    r.kern_end = VBASE + 0x3ff00000;
    CHECK_EQ(layout(r), 0);
    pt = (L.pt_start - VBASE) >> 12;
    {
        struct pv_walk w;
        struct pv_walk_step s;

        pv_walk_region(&w, &L);
        CHECK(pv_walk_next(&w, &s));
        CHECK_EQ(s.table_pfn[3], pt + 1);
        CHECK_EQ(s.table_pfn[2], pt + 2);
        CHECK_EQ(s.table_pfn[1], pt + 4);
    }
    /* ... Xen's dom0: L1 L2 L3 at the start, then an L1 per 2 MiB; at 1 GiB the L1
       comes before its L2. */
    r.initial_domain = true;
    CHECK_EQ(layout(r), 0);
    pt = (L.pt_start - VBASE) >> 12;
    {
        struct pv_walk w;
        struct pv_walk_step s;
        unsigned long steps = 0;

        pv_walk_region(&w, &L);
        while (pv_walk_next(&w, &s)) {
            if (s.va == VBASE) {
                CHECK_EQ(s.table_pfn[1], pt + 1);
                CHECK_EQ(s.table_pfn[2], pt + 2);
                CHECK_EQ(s.table_pfn[3], pt + 3);
            } else if (s.va == VBASE + 0x200000) {
                CHECK_EQ(s.table_pfn[1], pt + 4);
                CHECK_EQ(s.table_pfn[2], PV_NO_TABLE);
            } else if (s.va == VBASE + 0x40000000) {
                CHECK_EQ(s.table_pfn[1], pt + 3 + 512);
                CHECK_EQ(s.table_pfn[2], pt + 3 + 513);
                CHECK_EQ(s.table_pfn[3], PV_NO_TABLE);
            }
            steps++;
        }
        CHECK_EQ(steps, (L.v_end - L.v_start) >> 12);
        CHECK_EQ(w.next[0], pt + L.nr_pt_frames); /* every table frame used */
    }
}
