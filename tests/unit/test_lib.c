/*
 * Tests of enso's string functions, vsnprintf and parsers. They are compiled with
 * enso_ prefixes (see README.md), so both enso's and the C library's versions are here
 * and the formatting tests can compare the two.
 */
#include <limits.h>
#include <stdint.h>
#include "harness.h"

#define memset enso_memset
#define memcpy enso_memcpy
#define memmove enso_memmove
#define memcmp enso_memcmp
#define strlen enso_strlen
#define strnlen enso_strnlen
#define strcmp enso_strcmp
#define strncmp enso_strncmp
#define strchr enso_strchr
#define strrchr enso_strrchr
#define strlcpy enso_strlcpy
#define strlcat enso_strlcat
#define strstr enso_strstr
#define vsnprintf enso_vsnprintf
#define snprintf enso_snprintf
#include <enso/lib.h>
#undef memset
#undef memcpy
#undef memmove
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr
#undef strlcpy
#undef strlcat
#undef strstr
#undef vsnprintf
#undef snprintf

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

TEST(memset_fills_exactly)
{
    unsigned char buf[64];

    memset(buf, 0xaa, sizeof(buf));
    CHECK(enso_memset(buf + 3, 0x1ff, 17) == buf + 3);
    for (int i = 0; i < 64; i++)
        CHECK_EQ(buf[i], i >= 3 && i < 20 ? 0xff : 0xaa);
    enso_memset(buf, 0, 0);
    CHECK_EQ(buf[0], 0xaa);
}

TEST(memcpy_and_memmove)
{
    char buf[32] = "0123456789abcdefghij";

    CHECK(enso_memcpy(buf + 20, buf, 5) == buf + 20);
    CHECK(!memcmp(buf + 20, "01234", 5));
    strcpy(buf, "0123456789");
    enso_memmove(buf + 2, buf, 8); /* overlapping, destination above */
    CHECK(!memcmp(buf, "0101234567", 10));
    strcpy(buf, "0123456789");
    enso_memmove(buf, buf + 3, 7); /* overlapping, destination below */
    CHECK(!memcmp(buf, "3456789789", 10));
    CHECK(enso_memmove(buf, buf, 10) == buf);
}

TEST(memcmp_is_unsigned)
{
    unsigned char a[] = { 1, 2, 0x80 }, b[] = { 1, 2, 0x7f };

    CHECK(enso_memcmp(a, b, 3) > 0);
    CHECK(enso_memcmp(b, a, 3) < 0);
    CHECK_EQ(enso_memcmp(a, b, 2), 0);
    CHECK_EQ(enso_memcmp(a, b, 0), 0);
}

TEST(strlen_strnlen)
{
    CHECK_EQ(enso_strlen(""), 0);
    CHECK_EQ(enso_strlen("hello"), 5);
    CHECK_EQ(enso_strnlen("hello", 3), 3);
    CHECK_EQ(enso_strnlen("hello", 10), 5);
    CHECK_EQ(enso_strnlen("hello", 0), 0);
}

TEST(strcmp_matches_libc)
{
    static const char *const s[] = { "", "a", "ab", "abc", "abd", "b", "\xff", "A" };

    for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(s); j++) {
            CHECK_EQ(sign(enso_strcmp(s[i], s[j])), sign(strcmp(s[i], s[j])));
            for (size_t n = 0; n < 4; n++)
                CHECK_EQ(sign(enso_strncmp(s[i], s[j], n)), sign(strncmp(s[i], s[j], n)));
        }
    }
}

TEST(strchr_strrchr)
{
    const char *s = "a/b/c";

    CHECK(enso_strchr(s, '/') == s + 1);
    CHECK(enso_strrchr(s, '/') == s + 3);
    CHECK(enso_strchr(s, 'x') == NULL);
    CHECK(enso_strrchr(s, 'x') == NULL);
    CHECK(enso_strchr(s, '\0') == s + 5);
    CHECK(enso_strrchr(s, '\0') == s + 5);
    CHECK(enso_strchr(s, 'a' + 256) == s); /* c is converted to char */
}

TEST(strlcpy_truncates)
{
    char buf[8];

    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(enso_strlcpy(buf, "hello", sizeof(buf)), 5);
    CHECK(!strcmp(buf, "hello"));
    CHECK_EQ(enso_strlcpy(buf, "hello world", sizeof(buf)), 11);
    CHECK(!strcmp(buf, "hello w"));
    buf[0] = 'q';
    CHECK_EQ(enso_strlcpy(buf, "abc", 0), 3);
    CHECK_EQ(buf[0], 'q');
    CHECK_EQ(enso_strlcpy(buf, "abc", 1), 3);
    CHECK_EQ(buf[0], '\0');
}

TEST(strlcat_truncates)
{
    char buf[8] = "abc";

    CHECK_EQ(enso_strlcat(buf, "de", sizeof(buf)), 5);
    CHECK(!strcmp(buf, "abcde"));
    CHECK_EQ(enso_strlcat(buf, "fghij", sizeof(buf)), 10);
    CHECK(!strcmp(buf, "abcdefg"));
    /* Not terminated within n: nothing is written. */
    CHECK_EQ(enso_strlcat(buf, "xyz", 3), 6);
    CHECK(!strcmp(buf, "abcdefg"));
}

TEST(strstr_cases)
{
    const char *h = "abcabcabd";

    CHECK(enso_strstr(h, "abd") == h + 6);
    CHECK(enso_strstr(h, "abc") == h);
    CHECK(enso_strstr(h, "") == h);
    CHECK(enso_strstr(h, "abdx") == NULL);
    CHECK(enso_strstr("", "") != NULL);
    CHECK(enso_strstr("", "a") == NULL);
}

/* Formats with both enso's and the host's snprintf and compares text and length. */
#define SAME(...)                                                                      \
    do {                                                                               \
        char mine[256], theirs[256];                                                   \
        int n1 = enso_snprintf(mine, sizeof(mine), __VA_ARGS__);                       \
        int n2 = snprintf(theirs, sizeof(theirs), __VA_ARGS__);                        \
        if (strcmp(mine, theirs) || n1 != n2) {                                        \
            printf("FAIL %s: line %d: %s: enso \"%s\" (%d), libc \"%s\" (%d)\n",       \
                   unit_current, __LINE__, #__VA_ARGS__, mine, n1, theirs, n2);        \
            unit_failed_now = 1;                                                       \
            return;                                                                    \
        }                                                                              \
    } while (0)

TEST(vsnprintf_integers)
{
    SAME("%d %i %u", 0, -1, 0u);
    SAME("%d %d", INT_MAX, INT_MIN);
    SAME("%u %x %X %o", UINT_MAX, 0xdeadbeefu, 0xdeadbeefu, 0755u);
    SAME("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0x123456789abcdefUL);
    SAME("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0xfedcba9876543210ULL);
    SAME("%hhd %hhu %hd %hu", -5, 300, -32768, 70000);
    SAME("%zu %zd %td %jd %ju", (size_t)12345, (ssize_t)-7, (ptrdiff_t)-9,
         (intmax_t)INTMAX_MIN, (uintmax_t)UINTMAX_MAX);
    SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
    SAME("[%05d] [%+05d] [% 05d]", -42, 42, 42);
    SAME("[%.3d] [%8.3d] [%-8.3d] [%.0d] [%.0d] [%5.0d]", 7, -7, 7, 0, 1, 0);
    SAME("[%#x] [%#X] [%#o] [%#x] [%#o] [%#.0o] [%.0x]", 255, 255, 8, 0, 0, 0, 0);
    SAME("[%#010x] [%#-10x] [%#.5x] [%#5o] [%#.3o]", 0xab, 0xab, 0xab, 8, 8);
}

/* Flag combinations the C standard defines but gcc's format checker frowns upon. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
TEST(vsnprintf_redundant_flags)
{
    SAME("[%+ d] [% +d] [%-05d] [%08.3d] [%+u] [% x]", 42, 42, -42, 7, 5, 5);
}
#pragma GCC diagnostic pop

TEST(vsnprintf_width_precision_star)
{
    SAME("[%*d] [%-*d] [%*d]", 6, 1, 6, 1, -6, 1);
    SAME("[%.*d] [%.*d] [%*.*d]", 4, 3, -1, 3, 7, 3, -12);
    SAME("[%.*s] [%*s] [%-*s|]", 2, "hello", 8, "hi", 4, "x");
}

TEST(vsnprintf_strings_chars)
{
    SAME("%s|%10s|%-10s|%.3s|%10.2s|", "abc", "abc", "abc", "abcdef", "abcdef");
    SAME("%c%c%c [%3c] [%-3c]", 'a', 'b', 'c', 'x', 'y');
    SAME("100%%");
    SAME("%s", "");
    SAME("no conversions");
    const char *volatile null = NULL; /* hidden from the format checker */

    SAME("[%s] [%8s] [%-7s]", null, null, null);
}

TEST(vsnprintf_pointer)
{
    char buf[64];

    enso_snprintf(buf, sizeof(buf), "%p", (void *)0x1234);
    CHECK(!strcmp(buf, "0x0000000000001234"));
    enso_snprintf(buf, sizeof(buf), "%p", NULL);
    CHECK(!strcmp(buf, "0x0000000000000000"));
    enso_snprintf(buf, sizeof(buf), "[%20p] [%-20p]", (void *)~0UL, (void *)1);
    CHECK(!strcmp(buf, "[  0xffffffffffffffff] [0x0000000000000001  ]"));
}

TEST(vsnprintf_truncation)
{
    char buf[8];

    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(enso_snprintf(buf, sizeof(buf), "%s-%d", "hello", 12345), 11);
    CHECK(!strcmp(buf, "hello-1"));
    CHECK_EQ(enso_snprintf(buf, 1, "abc"), 3);
    CHECK_EQ(buf[0], '\0');
    buf[0] = 'q';
    CHECK_EQ(enso_snprintf(buf, 0, "abc%d", 42), 5);
    CHECK_EQ(buf[0], 'q');
    CHECK_EQ(enso_snprintf(NULL, 0, "%08x", 1), 8);
    CHECK_EQ(enso_snprintf(buf, sizeof(buf), "1234567"), 7);
    CHECK(!strcmp(buf, "1234567"));
}

TEST(strtoull_bases)
{
    const char *end;

    CHECK_EQ(simple_strtoull("1234x", &end, 0), 1234);
    CHECK_EQ(*end, 'x');
    CHECK_EQ(simple_strtoull("0x1fG", &end, 0), 0x1f);
    CHECK_EQ(*end, 'G');
    CHECK_EQ(simple_strtoull("0X1F", &end, 0), 0x1f);
    CHECK_EQ(simple_strtoull("0755", &end, 0), 0755);
    CHECK_EQ(simple_strtoull("089", &end, 0), 0);
    CHECK_EQ(*end, '8');
    CHECK_EQ(simple_strtoull("0", &end, 0), 0);
    CHECK_EQ(*end, '\0');
    CHECK_EQ(simple_strtoull("0x", &end, 0), 0); /* "0", then an 'x' that is not a digit */
    CHECK_EQ(*end, 'x');
    CHECK_EQ(simple_strtoull("ff", &end, 16), 0xff);
    CHECK_EQ(simple_strtoull("0xff", &end, 16), 0xff);
    CHECK_EQ(simple_strtoull("1010", &end, 2), 10);
    CHECK_EQ(simple_strtoull("zz", &end, 36), 35 * 36 + 35);
    CHECK_EQ(simple_strtoull("", &end, 0), 0);
    CHECK(simple_strtoull("18446744073709551615", NULL, 10) == ULLONG_MAX);
    CHECK(simple_strtoull("18446744073709551616", NULL, 10) == ULLONG_MAX);
    CHECK(simple_strtoull("99999999999999999999999", NULL, 0) == ULLONG_MAX);
    CHECK(simple_strtoull("0xffffffffffffffff", NULL, 0) == ULLONG_MAX);
    CHECK(simple_strtoull("0x10000000000000000", NULL, 0) == ULLONG_MAX);
}

TEST(strtoll_signs)
{
    const char *end;

    CHECK_EQ(simple_strtoll("-42z", &end, 0), -42);
    CHECK_EQ(*end, 'z');
    CHECK_EQ(simple_strtoll("+0x10", &end, 0), 16);
    CHECK_EQ(simple_strtoll("-9223372036854775808", NULL, 10), LLONG_MIN);
    CHECK_EQ(simple_strtoll("9223372036854775807", NULL, 10), LLONG_MAX);
    CHECK_EQ(simple_strtoll("9223372036854775808", NULL, 10), LLONG_MAX);
    CHECK_EQ(simple_strtoll("-99999999999999999999", NULL, 10), LLONG_MIN);
}

TEST(parse_size_suffixes)
{
    const char *end;

    CHECK_EQ(parse_size("4096", &end), 4096);
    CHECK_EQ(*end, '\0');
    CHECK_EQ(parse_size("4k", &end), 4096);
    CHECK_EQ(parse_size("4K", &end), 4096);
    CHECK_EQ(parse_size("16M", &end), 16 << 20);
    CHECK_EQ(parse_size("16m", &end), 16 << 20);
    CHECK(parse_size("2G", &end) == 2ULL << 30);
    CHECK(parse_size("3t", &end) == 3ULL << 40);
    CHECK_EQ(parse_size("512B", &end), 512);
    CHECK_EQ(*end, '\0');
    CHECK_EQ(parse_size("512b", &end), 512);
    CHECK_EQ(parse_size("0x10M", &end), 16 << 20);
    CHECK_EQ(parse_size("1Mx", &end), 1 << 20);
    CHECK_EQ(*end, 'x');
    CHECK_EQ(parse_size("1Q", &end), 1);
    CHECK_EQ(*end, 'Q');
    CHECK(parse_size("16777216T", &end) == ULLONG_MAX); /* 2^64: saturates */
    CHECK(parse_size("16777215T", &end) == 16777215ULL << 40);
    CHECK(parse_size("99999999999999999999999G", NULL) == ULLONG_MAX);
}

TEST(prng_is_deterministic)
{
    uint64_t a = 1, b = 1, z = 0;
    uint64_t first = prng_next(&a);

    CHECK(first == prng_next(&b));
    CHECK(prng_next(&a) != first);
    CHECK(prng_next(&z) != 0); /* a zero seed does not get stuck */
    CHECK(z != 0);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

static int swaps;

static void swap_int(void *a, void *b, size_t size)
{
    int t = *(int *)a;

    (void)size;
    *(int *)a = *(int *)b;
    *(int *)b = t;
    swaps++;
}

TEST(sort_random_arrays)
{
    uint64_t seed = 42;
    int v[200];

    for (size_t n = 0; n <= ARRAY_SIZE(v); n += (n < 10 ? 1 : 37)) {
        long sum = 0, check = 0;

        for (size_t i = 0; i < n; i++) {
            v[i] = (int)(prng_next(&seed) % 50) - 25; /* duplicates on purpose */
            sum += v[i];
        }
        sort(v, n, sizeof(v[0]), cmp_int, (n & 1) ? swap_int : NULL);
        for (size_t i = 0; i < n; i++) {
            if (i)
                CHECK(v[i - 1] <= v[i]);
            check += v[i];
        }
        CHECK_EQ(check, sum);
    }
    CHECK(swaps > 0);
}

struct item {
    char name[5];
    uint64_t key;
};

static int cmp_item(const void *a, const void *b)
{
    uint64_t x = ((const struct item *)a)->key, y = ((const struct item *)b)->key;

    return (x > y) - (x < y);
}

TEST(sort_structs_with_default_swap)
{
    struct item items[] = { { "e", 5 }, { "b", 2 }, { "d", 4 }, { "a", 1 }, { "c", 3 } };

    sort(items, ARRAY_SIZE(items), sizeof(items[0]), cmp_item, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
        CHECK_EQ(items[i].key, i + 1);
        CHECK_EQ(items[i].name[0], 'a' + (int)i);
    }
}

/* Random flag/width/precision/length combinations, compared with the C library. */
TEST(vsnprintf_random_formats)
{
    static const char flags[] = "-0 +#";
    static const char convs[] = "diuxXo";
    static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "j" };
    uint64_t seed = 7;

    for (int i = 0; i < 20000; i++) {
        char fmt[32], mine[128], theirs[128];
        uint64_t r = prng_next(&seed), v = prng_next(&seed);
        char conv = convs[r % 6];
        size_t n = 0;

        /* '#' only with x/X/o, where it is defined. */
        fmt[n++] = '[';
        fmt[n++] = '%';
        for (int f = 0; f < 5; f++)
            if ((r >> (8 + f)) & 1 && (f != 4 || strchr("xXo", conv)))
                fmt[n++] = flags[f];
        n += (size_t)sprintf(fmt + n, "%d", (int)((r >> 16) % 25));
        if ((r >> 24) & 1)
            n += (size_t)sprintf(fmt + n, ".%d", (int)((r >> 25) % 22));
        n += (size_t)sprintf(fmt + n, "%s%c]", lens[(r >> 32) % 7], conv);
        /* Small values too, so zero and one-digit cases come up. */
        if ((r >> 40) & 1)
            v %= 20;
        int n1 = enso_snprintf(mine, sizeof(mine), fmt, v);
        int n2 = snprintf(theirs, sizeof(theirs), fmt, v);

        if (strcmp(mine, theirs) || n1 != n2) {
            printf("FAIL %s: \"%s\" with %#llx: enso \"%s\", libc \"%s\"\n", unit_current, fmt,
                   (unsigned long long)v, mine, theirs);
            unit_failed_now = 1;
            return;
        }
    }
}
