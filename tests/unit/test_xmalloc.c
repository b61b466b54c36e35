/*
 * Host tests of xmalloc on top of the real buddy allocator. The page heap is set up once
 * (xmalloc keeps state across tests), and every test must give back all it took.
 */
#include "harness.h"
#include <stdint.h>
#include <enso/page_alloc.h>
#include <enso/xmalloc.h>

#define NR_FRAMES 0x4000UL
#define RAM_START 0x10UL

struct page_info *host_frame_table;
uintptr_t host_directmap_base;
unsigned long max_page;

static int page_bugs, xm_bugs;
static const char *last_bug;

void page_alloc_bug(const char *msg, mfn_t mfn)
{
    (void)mfn;
    page_bugs++;
    last_bug = msg;
}

void xmalloc_bug(const char *msg, const void *p)
{
    (void)p;
    xm_bugs++;
    last_bug = msg;
}

static unsigned long start_free;

static void setup(void)
{
    if (!host_frame_table) {
        host_frame_table = calloc(NR_FRAMES, sizeof(struct page_info));
        host_directmap_base = (uintptr_t)aligned_alloc(PAGE_SIZE, NR_FRAMES * PAGE_SIZE);
        max_page = NR_FRAMES;
        memset((void *)host_directmap_base, 0x3c, NR_FRAMES * PAGE_SIZE);
        heap_add_pages(_mfn(RAM_START), NR_FRAMES - RAM_START);
        start_free = heap_free_pages();
    }
    page_bugs = xm_bugs = 0;
    last_bug = NULL;
}

/* Everything a test took is back: no bytes in use, every page in the page allocator. */
static bool all_returned(void)
{
    return xmalloc_used_bytes() == 0 && heap_free_pages() == start_free && heap_check();
}

static uint64_t rng = 0x1234567887654321ULL;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static size_t expected_class(size_t size)
{
    size_t c = 16;

    while (c < size)
        c *= 2;
    return c;
}

TEST(every_size_class)
{
    setup();
    for (size_t size = 0; size <= 2048; size += size < 64 ? 1 : 7) {
        size_t cls = expected_class(size);
        unsigned char *p = xmalloc_bytes(size);

        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p & 15, 0);
        CHECK_EQ((uintptr_t)p & (cls - 1), 0);
        CHECK_EQ(xmalloc_used_bytes(), cls);
        memset(p, 0xee, size);
        xfree(p);
        CHECK_EQ(xmalloc_used_bytes(), 0);
    }
    CHECK_EQ(page_bugs + xm_bugs, 0);
    CHECK(all_returned());
}

TEST(objects_fill_pages_without_overlap)
{
    enum { N = 4096 / 64 * 3 + 5 };
    static uint64_t *obj[N];

    setup();
    for (int i = 0; i < N; i++) {
        obj[i] = xmalloc_array(uint64_t, 8);
        CHECK(obj[i] != NULL);
        for (int w = 0; w < 8; w++)
            obj[i][w] = (uint64_t)i * 8 + (uint64_t)w;
    }
    CHECK_EQ(xmalloc_used_bytes(), N * 64);
    CHECK_EQ(heap_free_pages(), start_free - 4);
    for (int i = 0; i < N; i++)
        for (int w = 0; w < 8; w++)
            CHECK_EQ(obj[i][w], (uint64_t)i * 8 + (uint64_t)w);
    for (int i = 0; i < N; i += 2)
        xfree(obj[i]);
    for (int i = 1; i < N; i += 2)
        xfree(obj[i]);
    CHECK_EQ(page_bugs + xm_bugs, 0);
    CHECK(all_returned());
}

TEST(large_allocations)
{
    static const size_t sizes[] = { 2049, 4095, 4096, 4097, 8192, 12289, 65536, 1 << 20 };

    setup();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        size_t pages = 1;
        unsigned char *p = xmalloc_bytes(sizes[i]);

        while (pages * PAGE_SIZE < sizes[i])
            pages *= 2;
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p & (PAGE_SIZE - 1), 0);
        CHECK_EQ(xmalloc_used_bytes(), pages * PAGE_SIZE);
        CHECK_EQ(heap_free_pages(), start_free - pages);
        memset(p, 0x11, sizes[i]);
        xfree(p);
        CHECK(all_returned());
    }
    /* More than all memory, and more than the largest block: plain failure, no leak. */
    CHECK(xmalloc_bytes(NR_FRAMES * PAGE_SIZE) == NULL);
    CHECK(xmalloc_bytes((size_t)PAGE_SIZE << (MAX_ORDER + 1)) == NULL);
    CHECK(xmalloc_bytes(SIZE_MAX) == NULL);
    CHECK_EQ(page_bugs + xm_bugs, 0);
    CHECK(all_returned());
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

TEST(xzalloc_zeroes)
{
    static const size_t sizes[] = { 1, 24, 100, 512, 2048, 3000, 20000 };

    setup();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        unsigned char *p = xmalloc_bytes(sizes[i]), *q;

        CHECK(p != NULL);
        memset(p, 0xff, sizes[i]);
        q = xzalloc_bytes(sizes[i]);
        CHECK(q != NULL);
        CHECK(all_zero(q, sizes[i]));
        xfree(p);
        xfree(q);
        /* Likely the same object again, now reused: still zero. */
        q = xzalloc_bytes(sizes[i]);
        CHECK(all_zero(q, sizes[i]));
        xfree(q);
    }
    CHECK(all_returned());
}

TEST(array_overflow_and_typed_macros)
{
    struct thing {
        uint64_t a, b, c;
    } *t, *arr;

    setup();
    CHECK(xmalloc_array(uint64_t, SIZE_MAX / 4) == NULL);
    CHECK(xzalloc_array(struct thing, SIZE_MAX / 16) == NULL);
    CHECK(xmalloc_array(char, SIZE_MAX) == NULL);
    CHECK(xmalloc_used_bytes() == 0);
    t = xzalloc(struct thing);
    CHECK(t != NULL && t->a == 0 && t->b == 0 && t->c == 0);
    arr = xzalloc_array(struct thing, 1000);
    CHECK(arr != NULL);
    CHECK(all_zero((unsigned char *)arr, sizeof(*arr) * 1000));
    CHECK_EQ(xmalloc_used_bytes(), 32 + 8 * PAGE_SIZE);
    xfree(arr);
    xfree(t);
    t = xmalloc(struct thing);
    CHECK(t != NULL);
    xfree(t);
    xfree(NULL);
    CHECK_EQ(page_bugs + xm_bugs, 0);
    CHECK(all_returned());
}

TEST(misuse_detected)
{
    unsigned char *a, *b, *big;
    int on_stack;

    setup();
    a = xmalloc_bytes(64);
    b = xmalloc_bytes(64); /* keeps the page alive while a is misused */
    big = xmalloc_bytes(3 * PAGE_SIZE);
    CHECK(a && b && big);

    xfree(a);
    CHECK_EQ(xm_bugs, 0);
    xfree(a);
    CHECK_EQ(xm_bugs, 1);
    CHECK(strstr(last_bug, "double free") != NULL);

    xfree(b + 8);
    CHECK_EQ(xm_bugs, 2);
    xfree(b + 16);
    CHECK_EQ(xm_bugs, 3);
    xfree(&on_stack);
    CHECK_EQ(xm_bugs, 4);
    xfree(big + PAGE_SIZE);
    CHECK_EQ(xm_bugs, 5);
    xfree(big + 32);
    CHECK_EQ(xm_bugs, 6);

    /* A write after free is noticed when the object is handed out again. */
    a[40] = 1;
    a = xmalloc_bytes(64);
    CHECK_EQ(xm_bugs, 7);
    CHECK(strstr(last_bug, "written") != NULL);

    xfree(big);
    xfree(big);
    CHECK_EQ(xm_bugs, 8);
    xfree(a);
    xfree(b);
    CHECK_EQ(xm_bugs, 8);
    CHECK_EQ(page_bugs, 0);
    CHECK(all_returned());
}

TEST(live_data_that_looks_free_is_not_a_double_free)
{
    uint64_t *a, *b;

    setup();
    a = xmalloc_bytes(32);
    b = xmalloc_bytes(32);
    CHECK(a && b);
    /* Looks exactly like a free object: NULL link, then poison. */
    a[0] = 0;
    a[1] = a[2] = a[3] = 0xe5e5e5e5e5e5e5e5ULL;
    xfree(a);
    xfree(b);
    CHECK_EQ(xm_bugs, 0);
    CHECK(all_returned());
}

TEST(random_stress)
{
    enum { LIVE_MAX = 2000 };
    static struct { unsigned char *p; size_t size; unsigned char fill; } live[LIVE_MAX];
    unsigned int nr = 0;

    setup();
    for (int it = 0; it < 60000; it++) {
        uint64_t r = rnd();

        if (nr < LIVE_MAX && (r & 1)) {
            size_t size = (r >> 8) % 64 == 0 ? (size_t)((r >> 16) % 40000)
                                              : (size_t)((r >> 16) % 2100);
            unsigned char *p = (r >> 48) & 1 ? xzalloc_bytes(size) : xmalloc_bytes(size);

            CHECK(p != NULL);
            CHECK_EQ((uintptr_t)p & 15, 0);
            live[nr].p = p;
            live[nr].size = size;
            live[nr].fill = (unsigned char)(it | 1);
            memset(p, live[nr].fill, size);
            nr++;
        } else if (nr) {
            unsigned int k = (unsigned int)((r >> 8) % nr);

            for (size_t i = 0; i < live[k].size; i++)
                CHECK_EQ(live[k].p[i], live[k].fill);
            xfree(live[k].p);
            live[k] = live[--nr];
        }
    }
    while (nr)
        xfree(live[--nr].p);
    CHECK_EQ(page_bugs + xm_bugs, 0);
    CHECK(all_returned());
}
