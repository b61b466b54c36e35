/*
 * String and memory functions for enso (there is no libc inside the hypervisor).
 *
 * GCC recognises byte loops that look like memset/memcpy/strlen and replaces them with
 * calls to those very functions, which here would recurse forever; the pragma turns that
 * transformation off for this file. memset and memcpy use the string instructions, which
 * are fast on every CPU with ERMSB and are short enough to trust.
 *
 * Host unit tests compile this file with -Dmemset=enso_memset etc. so the functions do
 * not replace the C library's (see tests/unit/README.md).
 */
#include <enso/lib.h>

#pragma GCC optimize("no-tree-loop-distribute-patterns")

void *memset(void *s, int c, size_t n)
{
    void *d = s;

    __asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
    void *to = d;

    __asm__ __volatile__("rep movsb" : "+D"(to), "+S"(s), "+c"(n) : : "memory");
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *to = d;
    const unsigned char *from = s;

    /* Copying forwards is safe unless the destination starts inside the source. */
    if (to <= from || to >= from + n)
        return memcpy(d, s, n);
    while (n--)
        to[n] = from[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

/* Characters compare as unsigned char, as the C standard requires. */
int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            break;
    }
    return 0;
}

/* Searching for '\0' finds the terminator, as in the C standard. */
char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;

    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

/* Returns strlen(s), so a result >= n tells the caller the copy was truncated. */
size_t strlcpy(char *d, const char *s, size_t n)
{
    size_t len = strlen(s);

    if (n) {
        size_t copy = len < n ? len : n - 1;

        memcpy(d, s, copy);
        d[copy] = '\0';
    }
    return len;
}

/* Returns the length the full concatenation would have; >= n means truncation. */
size_t strlcat(char *d, const char *s, size_t n)
{
    size_t used = strnlen(d, n);

    /* d not terminated within n: nothing can be appended. */
    if (used == n)
        return n + strlen(s);
    return used + strlcpy(d + used, s, n - used);
}

char *strstr(const char *h, const char *n)
{
    size_t len = strlen(n);

    for (; *h; h++)
        if (!strncmp(h, n, len))
            return (char *)h;
    return len ? NULL : (char *)h;
}
