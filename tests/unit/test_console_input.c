/*
 * Serial input's pure parts (console_input.c): the Ctrl-A counter and writing typed
 * bytes into a console ring whose indices the guest may have scribbled on.
 */
#include "harness.h"
#include <enso/console.h>
#include <public/console.h>

/* Feeds text; returns what reaches the reader, with '|' where a switch happened. */
static const char *feed(struct console_switch *s, const char *text)
{
    static char got[256];
    size_t len = 0;

    for (; *text; text++) {
        char out[CONSOLE_SWITCH_MAX_OUT];
        int n = console_switch_feed(s, *text, out);

        if (n == CONSOLE_SWITCH) {
            got[len++] = '|';
            continue;
        }
        for (int i = 0; i < n; i++)
            got[len++] = out[i];
    }
    got[len] = 0;
    return got;
}

TEST(switch_code_is_ctrl_a)
{
    CHECK_EQ(CONSOLE_SWITCH_CODE, 0x01);
}

TEST(plain_keys_pass_through)
{
    struct console_switch s = { 0 };

    CHECK(!strcmp(feed(&s, "hello\r"), "hello\r"));
    CHECK_EQ(s.pending, 0);
}

TEST(three_in_a_row_switch_and_are_eaten)
{
    struct console_switch s = { 0 };

    CHECK(!strcmp(feed(&s, "a\1\1\1b"), "a|b"));
    CHECK_EQ(s.pending, 0);
}

TEST(fewer_than_three_are_passed_on_before_the_key)
{
    struct console_switch s = { 0 };

    CHECK(!strcmp(feed(&s, "\1x"), "\1x"));
    CHECK(!strcmp(feed(&s, "\1\1y"), "\1\1y"));
}

TEST(pending_codes_wait_for_the_next_key)
{
    struct console_switch s = { 0 };

    CHECK(!strcmp(feed(&s, "\1\1"), ""));
    CHECK_EQ(s.pending, 2);
    CHECK(!strcmp(feed(&s, "z"), "\1\1z"));
}

TEST(counting_restarts_after_a_switch)
{
    struct console_switch s = { 0 };

    /* Six in a row: two switches. Four then a key: a switch, then one code passed on. */
    CHECK(!strcmp(feed(&s, "\1\1\1\1\1\1"), "||"));
    CHECK(!strcmp(feed(&s, "\1\1\1\1k"), "|\1k"));
}

/* A ring with a guard area after it, so a stray write shows. */
static struct {
    struct xencons_interface r;
    char guard[64];
} page;

static void ring_reset(uint32_t cons, uint32_t prod)
{
    memset(&page, 0x5a, sizeof(page));
    page.r.in_cons = cons;
    page.r.in_prod = prod;
    page.r.out_cons = page.r.out_prod = 0x5a5a5a5a;
}

static int untouched_outside_in(void)
{
    for (size_t i = 0; i < sizeof(page.r.out); i++)
        if (page.r.out[i] != 0x5a)
            return 0;
    for (size_t i = 0; i < sizeof(page.guard); i++)
        if (page.guard[i] != 0x5a)
            return 0;
    return page.r.out_cons == 0x5a5a5a5a && page.r.out_prod == 0x5a5a5a5a;
}

TEST(ring_put_appends_at_prod)
{
    ring_reset(10, 10);
    CHECK_EQ(xencons_put_input(&page.r, "abc", 3), 3);
    CHECK_EQ(page.r.in_prod, 13);
    CHECK_EQ(page.r.in_cons, 10);
    CHECK(!memcmp(page.r.in + 10, "abc", 3));
    CHECK(untouched_outside_in());
}

TEST(ring_put_wraps_the_index_and_the_array)
{
    ring_reset(0xfffffffe, 0xfffffffe);
    CHECK_EQ(xencons_put_input(&page.r, "wxyz", 4), 4);
    CHECK_EQ(page.r.in_prod, 2);
    CHECK_EQ(page.r.in[1022], 'w');
    CHECK_EQ(page.r.in[1023], 'x');
    CHECK_EQ(page.r.in[0], 'y');
    CHECK_EQ(page.r.in[1], 'z');
    CHECK(untouched_outside_in());
}

TEST(ring_put_stops_at_free_space)
{
    char big[2000];

    memset(big, 'q', sizeof(big));
    ring_reset(100, 100 + 1020);
    CHECK_EQ(xencons_put_input(&page.r, big, sizeof(big)), 4);
    CHECK_EQ(page.r.in_prod, 100 + 1024);
    ring_reset(7, 7 + 1024);
    CHECK_EQ(xencons_put_input(&page.r, "a", 1), 0);
    CHECK_EQ(page.r.in_prod, 7 + 1024);
    ring_reset(0, 0);
    CHECK_EQ(xencons_put_input(&page.r, big, sizeof(big)), 1024);
    CHECK_EQ(page.r.in_prod, 1024);
    CHECK(untouched_outside_in());
}

TEST(ring_put_refuses_hostile_indices)
{
    /* cons ahead of prod, or prod more than a ring ahead: nothing is written. */
    static const uint32_t bad[][2] = {
        { 5, 4 }, { 0, 1025 }, { 0, 0x80000000 }, { 0xffffffff, 0x7fffffff }, { 1, 0 },
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ring_reset(bad[i][0], bad[i][1]);
        CHECK_EQ(xencons_put_input(&page.r, "data", 4), 0);
        CHECK_EQ(page.r.in_prod, bad[i][1]);
        CHECK_EQ(page.r.in_cons, bad[i][0]);
        for (size_t j = 0; j < sizeof(page.r.in); j++)
            CHECK_EQ(page.r.in[j], 0x5a);
        CHECK(untouched_outside_in());
    }
}

TEST(ring_put_with_huge_prod_stays_inside)
{
    /* Any index value masks into the array. */
    ring_reset(0xdeadbeef - 3, 0xdeadbeef);
    CHECK_EQ(xencons_put_input(&page.r, "xy", 2), 2);
    CHECK_EQ(page.r.in[0xdeadbeef & 1023], 'x');
    CHECK_EQ(page.r.in[(0xdeadbeef + 1) & 1023], 'y');
    CHECK(untouched_outside_in());
}
