/* enso's small C library: strings, formatting, parsing. No libc inside enso. */
#ifndef ENSO_LIB_H
#define ENSO_LIB_H

#include <enso/types.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strlcpy(char *d, const char *s, size_t n);
size_t strlcat(char *d, const char *s, size_t n);
char *strstr(const char *h, const char *n);

/* Parse an unsigned number (0x / 0 prefixes for base 0); *end set past the digits. */
unsigned long long simple_strtoull(const char *s, const char **end, unsigned int base);
long long simple_strtoll(const char *s, const char **end, unsigned int base);
/* Parse a size with an optional K/M/G/T suffix (default unit: bytes). */
unsigned long long parse_size(const char *s, const char **end);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Deterministic pseudo-random numbers (xorshift64*), for self-tests. */
uint64_t prng_next(uint64_t *state);

/* In-place sort (heapsort: no recursion, no allocation). */
void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
          void (*swap)(void *, void *, size_t));

#endif
