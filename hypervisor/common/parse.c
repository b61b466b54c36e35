/*
 * Number and size parsing, a small PRNG and a sort. None of it allocates or recurses, so
 * all of it is usable from the first instructions of boot.
 */
#include <enso/lib.h>

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

static bool is_hex_prefix(const char *s)
{
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16;
}

/*
 * Base 0 picks 16 for "0x", 8 for a leading "0", else 10; base 16 also skips "0x".
 * A value too large for 64 bits saturates at ULLONG_MAX instead of wrapping, so an
 * absurd option value can never turn into a small one.
 */
unsigned long long simple_strtoull(const char *s, const char **end, unsigned int base)
{
    unsigned long long v = 0;
    bool overflow = false;
    int d;

    if ((base == 0 || base == 16) && is_hex_prefix(s)) {
        base = 16;
        s += 2;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }
    if (base < 2 || base > 36)
        base = 10;
    for (; (d = digit_value(*s)) < (int)base; s++) {
        if (v > (~0ULL - (unsigned int)d) / base)
            overflow = true;
        v = v * base + (unsigned int)d;
    }
    if (end)
        *end = s;
    return overflow ? ~0ULL : v;
}

/* Saturates at LLONG_MIN / LLONG_MAX. */
long long simple_strtoll(const char *s, const char **end, unsigned int base)
{
    const long long max = (long long)(~0ULL >> 1);
    bool neg = *s == '-';
    unsigned long long v;

    if (*s == '-' || *s == '+')
        s++;
    v = simple_strtoull(s, end, base);
    if (neg)
        return v > (unsigned long long)max ? -max - 1 : -(long long)v;
    return v > (unsigned long long)max ? max : (long long)v;
}

static unsigned int size_shift(char c)
{
    switch (c) {
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    default: return 0;
    }
}

/*
 * "<number>[KMGTB]", suffix case-insensitive, "B" (or none) meaning bytes. The number
 * follows simple_strtoull's base-0 rules, so "0x1000" works. Saturates at ULLONG_MAX.
 */
unsigned long long parse_size(const char *s, const char **end)
{
    const char *p;
    unsigned long long v = simple_strtoull(s, &p, 0);
    unsigned int shift = size_shift(*p);

    if (shift) {
        v = v > (~0ULL >> shift) ? ~0ULL : v << shift;
        p++;
    } else if (*p == 'b' || *p == 'B') {
        p++;
    }
    if (end)
        *end = p;
    return v;
}

/* xorshift64*: tiny, fast and plenty for self-tests. A zero state would stick at zero. */
uint64_t prng_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static void swap_bytes(void *a, void *b, size_t size)
{
    unsigned char *x = a, *y = b;

    for (size_t i = 0; i < size; i++) {
        unsigned char t = x[i];

        x[i] = y[i];
        y[i] = t;
    }
}

/* Moves element i down the max-heap of n elements until both children are smaller. */
static void sift_down(char *base, size_t i, size_t n, size_t size,
                      int (*cmp)(const void *, const void *),
                      void (*swap)(void *, void *, size_t))
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;

        if (l < n && cmp(base + l * size, base + big * size) > 0)
            big = l;
        if (r < n && cmp(base + r * size, base + big * size) > 0)
            big = r;
        if (big == i)
            return;
        swap(base + i * size, base + big * size, size);
        i = big;
    }
}

/* Heapsort: O(n log n) worst case, no stack growth. Not stable. swap may be NULL. */
void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
          void (*swap)(void *, void *, size_t))
{
    char *b = base;

    if (!swap)
        swap = swap_bytes;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(b, i, n, size, cmp, swap);
    for (size_t end = n; end > 1; end--) {
        swap(b, b + (end - 1) * size, size);
        sift_down(b, 0, end - 1, size, cmp, swap);
    }
}
