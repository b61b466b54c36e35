/*
 * Host tests of the buddy allocator. RAM is two ranges with a hole between them:
 * frames 0x100-0x9ff and 0x1000-0x7fff. Frames below 0x100 and 0xa00-0xbff are marked
 * reserved; 0xc00-0xfff is a plain hole (never mentioned to the allocator at all).
 */
#include "harness.h"
#include <stdint.h>
#include <enso/page_alloc.h>

#define NR_FRAMES 0x8000UL
#define R1_START 0x100UL
#define R1_END 0xa00UL
#define R2_START 0x1000UL
#define R2_END 0x8000UL
#define RAM_FRAMES ((R1_END - R1_START) + (R2_END - R2_START))
#define GARBAGE 0x5a

struct page_info *host_frame_table;
uintptr_t host_directmap_base;
unsigned long max_page;

static int bug_reports;
static const char *last_bug;

void page_alloc_bug(const char *msg, mfn_t mfn)
{
    (void)mfn;
    bug_reports++;
    last_bug = msg;
}

static unsigned long initial_counts[MAX_ORDER + 1];

static unsigned char *frame_bytes(unsigned long mfn)
{
    return (unsigned char *)mfn_to_virt(_mfn(mfn));
}

/* A fresh frame table and RAM full of "firmware" garbage, handed to the allocator. */
static void setup(void)
{
    if (!host_frame_table) {
        host_frame_table = calloc(NR_FRAMES, sizeof(struct page_info));
        host_directmap_base = (uintptr_t)aligned_alloc(PAGE_SIZE, NR_FRAMES * PAGE_SIZE);
    }
    heap_reset();
    max_page = NR_FRAMES;
    memset(host_frame_table, 0, NR_FRAMES * sizeof(struct page_info));
    for (unsigned long m = 0; m < 0xc00; m++)
        if (m < R1_START || m >= R1_END)
            host_frame_table[m].count_info = PGC_reserved;
    memset(frame_bytes(R1_START), GARBAGE, (R1_END - R1_START) * PAGE_SIZE);
    memset(frame_bytes(R2_START), GARBAGE, (R2_END - R2_START) * PAGE_SIZE);
    heap_add_pages(_mfn(R1_START), R1_END - R1_START);
    heap_add_pages(_mfn(R2_START), R2_END - R2_START);
    heap_free_counts(initial_counts);
    bug_reports = 0;
    last_bug = NULL;
}

static bool counts_are_initial(void)
{
    unsigned long now[MAX_ORDER + 1];

    heap_free_counts(now);
    return !memcmp(now, initial_counts, sizeof(now));
}

static bool in_one_range(unsigned long mfn, unsigned long n)
{
    return (mfn >= R1_START && mfn + n <= R1_END) || (mfn >= R2_START && mfn + n <= R2_END);
}

static bool page_is(unsigned long mfn, unsigned char v)
{
    const unsigned char *p = frame_bytes(mfn);

    for (unsigned long i = 0; i < PAGE_SIZE; i++)
        if (p[i] != v)
            return false;
    return true;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

TEST(init_builds_maximal_blocks)
{
    setup();
    CHECK_EQ(heap_free_pages(), RAM_FRAMES);
    CHECK_EQ(heap_total_pages(), RAM_FRAMES);
    CHECK(heap_check());
    /* 0x100..0xa00 = 0x100@8 0x200@9 0x400@10 0x800@9; 0x1000..0x8000 = @12 @13 @14. */
    CHECK_EQ(initial_counts[8], 1);
    CHECK_EQ(initial_counts[9], 2);
    CHECK_EQ(initial_counts[10], 1);
    CHECK_EQ(initial_counts[12], 1);
    CHECK_EQ(initial_counts[13], 1);
    CHECK_EQ(initial_counts[14], 1);
    CHECK_EQ(initial_counts[0] + initial_counts[11] + initial_counts[15], 0);
    CHECK_EQ(bug_reports, 0);
    CHECK(!(host_frame_table[0x50].count_info & PGC_free));
    CHECK(!(host_frame_table[0xc00].count_info & PGC_free));
}

TEST(alloc_free_every_order)
{
    setup();
    for (unsigned int order = 0; order <= 14; order++) {
        struct page_info *pg = alloc_heap_pages(order, 0);
        unsigned long mfn;

        CHECK(pg != NULL);
        mfn = mfn_x(page_to_mfn(pg));
        CHECK_EQ(mfn & ((1UL << order) - 1), 0);
        CHECK(in_one_range(mfn, 1UL << order));
        CHECK_EQ(heap_free_pages(), RAM_FRAMES - (1UL << order));
        for (unsigned long i = 0; i < (1UL << order); i++) {
            CHECK_EQ(pg[i].count_info, 0);
            CHECK(pg[i].list.next == NULL && pg[i].u.owner == NULL);
        }
        CHECK(heap_check());
        free_heap_pages(pg, order, false);
        CHECK_EQ(heap_free_pages(), RAM_FRAMES);
        CHECK(counts_are_initial());
    }
    for (unsigned int order = 15; order <= MAX_ORDER + 1; order++)
        CHECK(alloc_heap_pages(order, 0) == NULL);
    CHECK(heap_check());
    CHECK_EQ(bug_reports, 0);
}

TEST(exhaustion_and_merge_back)
{
    static struct page_info *got[RAM_FRAMES];
    unsigned long n = 0;
    struct page_info *pg;

    setup();
    while ((pg = alloc_heap_pages(0, MEMF_no_scrub)) != NULL) {
        CHECK(n < RAM_FRAMES);
        got[n++] = pg;
    }
    CHECK_EQ(n, RAM_FRAMES);
    CHECK_EQ(heap_free_pages(), 0);
    CHECK(alloc_heap_pages(0, 0) == NULL);
    CHECK(heap_check());
    /* Free in a shuffled order so that merging happens in every pattern. */
    for (unsigned long i = n - 1; i > 0; i--) {
        unsigned long j = rnd() % (i + 1);
        struct page_info *t = got[i];

        got[i] = got[j];
        got[j] = t;
    }
    for (unsigned long i = 0; i < n; i++)
        free_heap_pages(got[i], 0, false);
    CHECK_EQ(heap_free_pages(), RAM_FRAMES);
    CHECK(counts_are_initial());
    CHECK(heap_check());
}

TEST(address_limited_allocations)
{
    static struct page_info *got[RAM_FRAMES];
    unsigned long n = 0, limit = 0x800; /* frames below 2^23 bytes */
    struct page_info *pg;

    setup();
    /* Order 4 blocks first: each must end at or below the limit. */
    while ((pg = alloc_heap_pages(4, MEMF_bits(PAGE_SHIFT + 11) | MEMF_no_scrub)) != NULL) {
        unsigned long m = mfn_x(page_to_mfn(pg));
        CHECK(m + 16 <= limit);
        CHECK(in_one_range(m, 16));
        got[n++] = pg;
    }
    CHECK_EQ(n, (limit - R1_START) / 16);
    CHECK(alloc_heap_pages(0, MEMF_bits(PAGE_SHIFT + 11)) == NULL);
    /* Without a limit, memory above it is still there. */
    pg = alloc_heap_pages(0, MEMF_no_scrub);
    CHECK(pg != NULL && mfn_x(page_to_mfn(pg)) >= limit);
    if (pg)
        free_heap_pages(pg, 0, false);
    /* A limit above all RAM is no limit. */
    pg = alloc_heap_pages(0, MEMF_bits(40) | MEMF_no_scrub);
    CHECK(pg != NULL);
    if (pg)
        free_heap_pages(pg, 0, false);
    for (unsigned long i = 0; i < n; i++)
        free_heap_pages(got[i], 4, false);
    CHECK(counts_are_initial());
    CHECK(heap_check());
}

TEST(blocks_never_cross_holes)
{
    static struct page_info *got[RAM_FRAMES];
    static unsigned int ord[RAM_FRAMES];
    unsigned long n = 0;

    setup();
    for (int order = 14; order >= 0; order--) {
        struct page_info *pg;

        while ((pg = alloc_heap_pages((unsigned int)order, MEMF_no_scrub)) != NULL) {
            CHECK(in_one_range(mfn_x(page_to_mfn(pg)), 1UL << order));
            got[n] = pg;
            ord[n++] = (unsigned int)order;
        }
    }
    CHECK_EQ(heap_free_pages(), 0);
    for (unsigned long i = 0; i < n; i++)
        free_heap_pages(got[i], ord[i], false);
    CHECK(counts_are_initial());
    for (unsigned long m = 0; m < NR_FRAMES; m++)
        if (!in_one_range(m, 1))
            CHECK(!(host_frame_table[m].count_info & PGC_free));
}

TEST(boot_memory_and_freed_pages_are_scrubbed)
{
    static struct page_info *got[RAM_FRAMES];
    struct page_info *pg;
    unsigned long n = 0, mfn;

    setup();
    pg = alloc_heap_pages(3, 0);
    CHECK(pg != NULL);
    mfn = mfn_x(page_to_mfn(pg));
    for (unsigned long i = 0; i < 8; i++) {
        CHECK(page_is(mfn + i, 0));
        memset(frame_bytes(mfn + i), 0xab, PAGE_SIZE);
    }
    free_heap_pages(pg, 3, true);
    CHECK(heap_check());
    /* Every frame handed out from now on, boot garbage or pattern, must read as zero. */
    while ((pg = alloc_heap_pages(0, 0)) != NULL) {
        CHECK(page_is(mfn_x(page_to_mfn(pg)), 0));
        CHECK_EQ(pg->count_info, 0);
        got[n++] = pg;
    }
    CHECK_EQ(n, RAM_FRAMES);
    for (unsigned long i = 0; i < n; i++)
        free_heap_pages(got[i], 0, true);
    CHECK(counts_are_initial());
    CHECK(heap_check());
}

TEST(no_scrub_leaves_contents)
{
    struct page_info *pg;
    unsigned long mfn;

    setup();
    /* Boot memory is dirty, but MEMF_no_scrub hands it out as is (and clean-flagged). */
    pg = alloc_heap_pages(1, MEMF_no_scrub);
    CHECK(pg != NULL);
    mfn = mfn_x(page_to_mfn(pg));
    CHECK(page_is(mfn, GARBAGE) && page_is(mfn + 1, GARBAGE));
    CHECK_EQ(pg[0].count_info | pg[1].count_info, 0);
    /* A page freed without need_scrub keeps its contents for the next owner. */
    memset(frame_bytes(mfn), 0x77, PAGE_SIZE);
    free_heap_pages(pg, 0, false);
    free_heap_pages(pg + 1, 0, true);
    CHECK(!(pg[0].count_info & PGC_need_scrub));
    CHECK(pg[1].count_info & PGC_need_scrub);
    CHECK(heap_check());
    pg = alloc_heap_pages(0, 0);
    while (pg && mfn_x(page_to_mfn(pg)) != mfn)
        pg = alloc_heap_pages(0, 0);
    CHECK(pg != NULL);
    CHECK(page_is(mfn, 0x77));
}

TEST(idle_scrubbing)
{
    struct page_info *pg;
    unsigned long total = 0;
    int done;

    setup();
    CHECK_EQ(heap_scrub_some(0), 0);
    CHECK_EQ(heap_scrub_some(100), 100);
    CHECK(heap_check());
    total = 100;
    while ((done = heap_scrub_some(1000)) > 0)
        total += (unsigned long)done;
    CHECK_EQ(total, RAM_FRAMES);
    CHECK(heap_check());
    for (unsigned long m = R2_START; m < R2_END; m += 0x123)
        CHECK(page_is(m, 0));
    /* Nothing is left dirty, so even MEMF_no_scrub allocations come back zeroed. */
    pg = alloc_heap_pages(4, MEMF_no_scrub);
    CHECK(pg != NULL);
    for (unsigned long i = 0; i < 16; i++)
        CHECK(page_is(mfn_x(page_to_mfn(pg)) + i, 0));
    free_heap_pages(pg, 4, false);
    CHECK(heap_check());
}

TEST(misuse_is_reported_not_corrupting)
{
    struct page_info *pg;

    setup();
    pg = alloc_heap_pages(1, 0);
    CHECK(pg != NULL);
    free_heap_pages(pg, 1, false);
    CHECK_EQ(bug_reports, 0);
    free_heap_pages(pg, 1, false);
    CHECK_EQ(bug_reports, 1);
    CHECK(strstr(last_bug, "already free") != NULL);
    free_heap_pages(pg + 1, 0, false);
    CHECK_EQ(bug_reports, 2);
    free_heap_pages(&host_frame_table[0x50], 0, false);
    CHECK_EQ(bug_reports, 3);
    CHECK(strstr(last_bug, "reserved") != NULL);
    free_heap_pages(&host_frame_table[NR_FRAMES], 0, false);
    CHECK_EQ(bug_reports, 4);
    free_heap_pages(host_frame_table - 1, 0, false);
    CHECK_EQ(bug_reports, 5);
    free_heap_pages(pg, 200, false);
    CHECK_EQ(bug_reports, 6);
    heap_add_pages(_mfn(0x900), 0x200); /* overlaps free RAM */
    CHECK_EQ(bug_reports, 7);
    heap_add_pages(_mfn(NR_FRAMES - 1), 2);
    CHECK_EQ(bug_reports, 8);
    pg = alloc_heap_pages(2, 0);
    CHECK(pg != NULL);
    free_heap_pages(pg + 1, 1, false); /* misaligned */
    CHECK_EQ(bug_reports, 9);
    free_heap_pages(pg, 2, false);
    CHECK_EQ(heap_free_pages(), RAM_FRAMES);
    CHECK(counts_are_initial());
    CHECK(heap_check());
}

TEST(heap_check_catches_corruption)
{
    struct page_info *head;
    unsigned long saved;

    setup();
    head = &host_frame_table[0x2000]; /* heads the order-13 block 0x2000-0x3fff */
    CHECK(heap_check());
    saved = head[5].count_info;
    head[5].count_info &= ~PGC_free;
    unit_log_clear();
    CHECK(!heap_check());
    CHECK(strstr(unit_log(), "heap_check") != NULL);
    head[5].count_info = saved;
    head->u.free_order = 12;
    CHECK(!heap_check());
    head->u.free_order = 13;
    CHECK(heap_check());
}

TEST(xenheap_pages)
{
    void *v;
    struct page_info *pg;

    setup();
    v = alloc_xenheap_pages(2, 0);
    CHECK(v != NULL);
    pg = virt_to_page(v);
    CHECK_EQ(mfn_x(page_to_mfn(pg)) & 3, 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pg[i].count_info, PGC_xenheap);
    CHECK(page_is(mfn_x(page_to_mfn(pg)), 0));
    memset(v, 0x33, 4 * PAGE_SIZE);
    free_heap_pages(pg, 2, false); /* wrong free function */
    CHECK_EQ(bug_reports, 1);
    free_xenheap_pages(v, 2);
    CHECK_EQ(bug_reports, 1);
    CHECK(pg[3].count_info & PGC_need_scrub);
    free_xenheap_pages(v, 2);
    CHECK_EQ(bug_reports, 2);
    free_xenheap_pages(NULL, 0);
    CHECK_EQ(bug_reports, 2);
    CHECK(counts_are_initial());
    CHECK(heap_check());
}

TEST(dump_prints_totals)
{
    setup();
    unit_log_clear();
    heap_dump();
    CHECK(strstr(unit_log(), "121 MiB free of 121 MiB") != NULL);
    CHECK(strstr(unit_log(), "order 14: 1 free blocks") != NULL);
}

/* Random alloc/free with a shadow map of owned frames to catch any overlap. */
TEST(random_stress)
{
    enum { LIVE_MAX = 512 };
    static struct { struct page_info *pg; unsigned int order; } live[LIVE_MAX];
    static unsigned char owned[NR_FRAMES];
    unsigned int nr_live = 0;

    setup();
    memset(owned, 0, sizeof(owned));
    for (unsigned long it = 0; it < 100000; it++) {
        uint64_t r = rnd();

        if (nr_live < LIVE_MAX && (r & 1)) {
            unsigned int order = (r >> 8) % 16 == 0 ? (unsigned int)((r >> 16) % 12)
                                                     : (unsigned int)((r >> 16) % 4);
            struct page_info *pg = alloc_heap_pages(order, (r >> 24) & 1 ? MEMF_no_scrub : 0);
            unsigned long mfn;

            if (!pg)
                continue;
            mfn = mfn_x(page_to_mfn(pg));
            CHECK_EQ(mfn & ((1UL << order) - 1), 0);
            CHECK(in_one_range(mfn, 1UL << order));
            for (unsigned long i = 0; i < (1UL << order); i++) {
                CHECK(!owned[mfn + i]);
                owned[mfn + i] = 1;
            }
            live[nr_live].pg = pg;
            live[nr_live++].order = order;
        } else if (nr_live) {
            unsigned int k = (unsigned int)((r >> 8) % nr_live);
            unsigned long mfn = mfn_x(page_to_mfn(live[k].pg));

            for (unsigned long i = 0; i < (1UL << live[k].order); i++)
                owned[mfn + i] = 0;
            free_heap_pages(live[k].pg, live[k].order, (r >> 40) & 1);
            live[k] = live[--nr_live];
        }
        if (it % 20000 == 0)
            CHECK(heap_check());
        if (it % 1000 == 0)
            heap_scrub_some(64);
    }
    while (nr_live) {
        nr_live--;
        free_heap_pages(live[nr_live].pg, live[nr_live].order, true);
    }
    CHECK_EQ(bug_reports, 0);
    CHECK_EQ(heap_free_pages(), RAM_FRAMES);
    CHECK(counts_are_initial());
    CHECK(heap_check());
}
