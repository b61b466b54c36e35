/*
 * enso's small-object heap, built on alloc_xenheap_pages.
 *
 * Requests up to 2048 bytes come from power-of-two size classes carved out of single
 * pages; bigger ones get whole pages. Every object is at least 16-byte aligned, and in
 * fact aligned to its class size (or to a page), so any C type's alignment is honoured.
 * Memory is not zeroed unless an xz* variant is used. All calls may be made with
 * interrupts disabled but may fail (NULL) when memory runs out.
 */
#ifndef ENSO_XMALLOC_H
#define ENSO_XMALLOC_H

#include <enso/types.h>

void *xmalloc_bytes(size_t size);
void *xzalloc_bytes(size_t size);
/* n objects of size bytes; NULL if n * size overflows. */
void *xmalloc_array_bytes(size_t size, size_t n, bool zero);
/* p may be NULL. */
void xfree(void *p);

/* Bytes handed out and not yet freed, counted in whole size classes or pages. */
size_t xmalloc_used_bytes(void);

/*
 * Called on misuse that xfree or xmalloc detects (double free, foreign or misaligned
 * pointer, a freed object written to). The hypervisor panics; host tests record the
 * report, so the heap stays consistent when this returns.
 */
void xmalloc_bug(const char *msg, const void *p);

#define xmalloc(type) ((type *)xmalloc_bytes(sizeof(type)))
#define xzalloc(type) ((type *)xzalloc_bytes(sizeof(type)))
#define xmalloc_array(type, n) ((type *)xmalloc_array_bytes(sizeof(type), (n), false))
#define xzalloc_array(type, n) ((type *)xmalloc_array_bytes(sizeof(type), (n), true))

#endif
