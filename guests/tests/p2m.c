/*
 * A kernel with an INIT_P2M note, as Debian's Linux has (0x8000000000): the builder
 * maps the p2m list there, with page tables of its own under that L4 slot, instead of
 * inside the bootstrap region. Every check of the boot kernel runs here too (boot.c,
 * included, expects the list at the note's address); the tests below look at the
 * list's mapping: where it is, its tables and frames, and what start_info says of them.
 *
 * The note is this file's own: the other kernels' images stay as they are.
 */
#define INIT_P2M_VA 0x8000000000
#include "boot.c"
#include <guest/pt.h>
#include <public/elfnote.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* One more "Xen" note next to guests/lib/head.S's: name size, value size, type, name. */
__asm__(".pushsection .note.Xen, \"a\", @note\n"
        ".balign 4\n"
        ".long 4, 8, " STR(XEN_ELFNOTE_INIT_P2M) "\n"
        ".asciz \"Xen\"\n"
        ".quad " STR(INIT_P2M_VA) "\n"
        ".balign 4\n"
        ".popsection");

#define LIST ((volatile uint64_t *)INIT_P2M_VA)
#define L1_COVER (2UL << 20)   /* what one L1 table maps */

/* Pages the list fills, and L1 tables mapping them (the note's address is 1 GiB
 * aligned and the list far smaller: one L3, one L2 of its own). */
static uint64_t list_pages(void)
{
    return ROUNDUP(start_info->nr_pages * 8, PAGE_SIZE) / PAGE_SIZE;
}

static uint64_t list_l1s(void)
{
    return ROUNDUP(list_pages() * PAGE_SIZE, L1_COVER) / L1_COVER;
}

/*
 * Which pfn holds what, relative to first_p2m_pfn. Xen's dom0 builder takes frames in
 * the order its walk needs them: L3, L2, then per 2 MiB an L1 and its pages. The
 * toolstack puts the list's pages first, then the L3, the L2 and the L1s.
 */
static uint64_t expect_data(uint64_t page)
{
    if (as_domu())
        return page;
    return 2 + (page / 512 + 1) + page;
}

static uint64_t expect_table(int level, uint64_t page)
{
    uint64_t d = list_pages();

    if (as_domu())
        return level == 3 ? d : level == 2 ? d + 1 : d + 2 + page / 512;
    return level == 3 ? 0 : level == 2 ? 1 : 2 + (page / 512) * 513;
}

/* The entries behind va in the list's mapping, read through scratch_page mappings. */
struct walk {
    uint64_t e[5];   /* e[4] the L4 entry ... e[1] the L1 entry */
};

static bool walk_va(uint64_t va, struct walk *w)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;

    w->e[4] = l4[(va >> 39) & 511];
    for (int lvl = 3; lvl >= 1; lvl--) {
        uint64_t up = w->e[lvl + 1];

        if (!(up & _PAGE_PRESENT) || (up & _PAGE_PSE))
            return false;
        w->e[lvl] = pt_read(PTE_MFN(up), (va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511);
        if (w->e[lvl] == ~0UL)
            return false;
    }
    return w->e[1] & _PAGE_PRESENT;
}

TEST(init_p2m_mfn_list)
{
    INFO("mfn_list %#lx, first_p2m_pfn %#lx, nr_p2m_frames %#lx, nr_pt_frames %lu, "
         "region end %#lx", (unsigned long)start_info->mfn_list,
         (unsigned long)start_info->first_p2m_pfn, (unsigned long)start_info->nr_p2m_frames,
         (unsigned long)start_info->nr_pt_frames, (unsigned long)region_end());
    CHECK_EQ(start_info->mfn_list, INIT_P2M_VA);
}

/* The list's pages and tables follow the initial allocation: the power-of-two block
 * for Xen's dom0, the region for the toolstack. */
TEST(init_p2m_first_pfn)
{
    CHECK_EQ(start_info->first_p2m_pfn, as_domu() ? region_pfns() : dom0_initial_block());
    CHECK(start_info->first_p2m_pfn >= region_pfns());
}

TEST(init_p2m_nr_frames)
{
    /* the list's pages, its L1s, one L2, one L3 */
    CHECK_EQ(start_info->nr_p2m_frames, list_pages() + list_l1s() + 2);
    CHECK(start_info->first_p2m_pfn + start_info->nr_p2m_frames <= start_info->nr_pages);
}

/* Every entry right, read at the note's address (boot.c's p2m_m2p_consistent reads
 * the same list through mfn_list). */
TEST(init_p2m_list_correct)
{
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn++) {
        uint64_t mfn = LIST[pfn];

        CHECKF(M2P[mfn] == pfn, "list[%#lx] = %#lx, m2p[that] = %#lx", (unsigned long)pfn,
               (unsigned long)mfn, (unsigned long)M2P[mfn]);
    }
}

/* Each page of the list: mapped by 4 KiB entries of tables that are the list's own,
 * at the pfns Xen gives them; entry flags as Xen writes them. */
TEST(init_p2m_mapping)
{
    uint64_t first = start_info->first_p2m_pfn;
    struct walk w;

    for (uint64_t page = 0; page < list_pages(); page++) {
        uint64_t va = INIT_P2M_VA + page * PAGE_SIZE;

        CHECKF(walk_va(va, &w), "%#lx not mapped by 4 KiB pages", (unsigned long)va);
        if (page == 0)
            INFO("entries for %#lx: L4 %#lx L3 %#lx L2 %#lx L1 %#lx", (unsigned long)va,
                 (unsigned long)w.e[4], (unsigned long)w.e[3], (unsigned long)w.e[2],
                 (unsigned long)w.e[1]);
        for (int lvl = 4; lvl >= 2; lvl--)
            CHECKF((w.e[lvl] & 0xfff) == PTE_TABLE && !(w.e[lvl] & _PAGE_NX),
                   "L%d entry for %#lx: %#lx", lvl, (unsigned long)va,
                   (unsigned long)w.e[lvl]);
        /* Xen's dom0 builder writes it dirty; the toolstack does not. */
        CHECKF((w.e[1] & (PTE_TABLE | _PAGE_PSE | _PAGE_NX)) ==
                   (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
                    (as_domu() ? 0 : _PAGE_DIRTY)),
               "L1 entry for %#lx: %#lx", (unsigned long)va, (unsigned long)w.e[1]);
        CHECKF(M2P[PTE_MFN(w.e[1])] == first + expect_data(page),
               "page %lu of the list is pfn %#lx, expected %#lx", (unsigned long)page,
               (unsigned long)M2P[PTE_MFN(w.e[1])],
               (unsigned long)(first + expect_data(page)));
        for (int lvl = 3; lvl >= 1; lvl--)
            CHECKF(M2P[PTE_MFN(w.e[lvl + 1])] == first + expect_table(lvl, page),
                   "the L%d table for page %lu is pfn %#lx, expected %#lx", lvl,
                   (unsigned long)page, (unsigned long)M2P[PTE_MFN(w.e[lvl + 1])],
                   (unsigned long)(first + expect_table(lvl, page)));
    }
    /* Nothing mapped past the list's last page in its L1. */
    if (list_pages() % 512) {
        uint64_t idx = list_pages() % 512;

        CHECK_EQ(pt_read(PTE_MFN(w.e[2]), (unsigned int)idx) & _PAGE_PRESENT, 0);
    }
}

/* Linux marks its kernel L1 entries; Xen's dom0 builder sets bit 52 itself. */
TEST(init_p2m_leaf_guest_kernel_bit)
{
    struct walk w;

    CHECK(walk_va(INIT_P2M_VA, &w));
    CHECKF(w.e[1] & _PAGE_GUEST_KERNEL, "L1 entry %#lx", (unsigned long)w.e[1]);
}

static void poke_list(void *arg)
{
    volatile uint64_t *p = arg;

    *p = *p;
}

/* The kernel owns its list: it may write it, and change its mapping. */
TEST(init_p2m_writable)
{
    uint64_t last = start_info->nr_pages - 1, keep = LIST[last];
    volatile uint64_t *slot = &LIST[last];
    struct trap_record r;
    struct walk w;

    CHECK_NO_TRAP(catch_trap(poke_list, (void *)slot, &r), r);
    *slot = ~keep;
    CHECK_EQ(LIST[last], ~keep);
    *slot = keep;
    CHECK_EQ(pfn_to_mfn(last), keep);

    /* Read-only through update_va_mapping: a write faults; writable again, it works. */
    CHECK(walk_va((uint64_t)slot & PAGE_MASK, &w));
    CHECK_EQ(HYPERVISOR_update_va_mapping((ulong)slot & PAGE_MASK, w.e[1] & ~_PAGE_RW,
                                          UVMF_INVLPG), 0);
    {
        bool trapped = catch_trap(poke_list, (void *)slot, &r);

        HYPERVISOR_update_va_mapping((ulong)slot & PAGE_MASK, w.e[1], UVMF_INVLPG);
        CHECK_TRAP(trapped, r, 14);
        CHECK_EQ(r.cr2, (uint64_t)slot);
        CHECK_EQ(r.error, 0x3);
    }
    CHECK_NO_TRAP(catch_trap(poke_list, (void *)slot, &r), r);
    CHECK_EQ(LIST[last], keep);
}

/* The list's tables are page tables of their level: never mappable writable, pinnable
 * at their own level only. The list's pages are ordinary writable memory. */
TEST(init_p2m_tables_are_page_tables)
{
    struct walk w;

    CHECK(walk_va(INIT_P2M_VA, &w));
    for (int lvl = 3; lvl >= 1; lvl--) {
        uint64_t mfn = PTE_MFN(w.e[lvl + 1]);
        int other = lvl == 1 ? 2 : 1;
        long rc;

        CHECKF(!frame_writable(mfn), "the L%d table (mfn %#lx) can be mapped writable", lvl,
               (unsigned long)mfn);
        CHECK(pt_read(mfn, 0) != ~0UL); /* read-only is fine */
        rc = pt_pin((unsigned int)other, mfn);
        CHECKF(rc < 0, "pinning the L%d table as L%d: %ld", lvl, other, rc);
        if (lvl == 3)
            INFO("pinning an L3 as L1: %ld", rc);
        CHECK_EQ(pt_pin((unsigned int)lvl, mfn), 0);
        CHECK_EQ(pt_unpin(mfn), 0);
    }
    CHECK(frame_writable(PTE_MFN(w.e[1])));
}

/* Nothing of the list's frames is in the bootstrap region, nor among its tables. */
TEST(init_p2m_frames_outside_region)
{
    uint64_t first = start_info->first_p2m_pfn;
    uint64_t pt_first = (start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT;

    CHECK(first >= region_pfns());
    CHECK(first >= pt_first + start_info->nr_pt_frames);
    for (uint64_t pfn = first; pfn < first + start_info->nr_p2m_frames; pfn++) {
        uint64_t leaf;
        int level;

        CHECK(!pt_lookup(GUEST_VIRT_BASE + (pfn << PAGE_SHIFT), &leaf, &level));
    }
}
