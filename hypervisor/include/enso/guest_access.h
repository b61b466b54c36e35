/*
 * Access to guest memory through guest virtual addresses, as hypercall arguments give
 * them. Nothing a guest passes is dereferenced directly: these routines refuse ranges
 * that touch enso's part of the address space or are not canonical, and turn a fault
 * (unmapped, read-only) into -EFAULT, the errno Xen returns.
 *
 * They use the page tables loaded on this CPU, i.e. the current vCPU's.
 */
#ifndef ENSO_GUEST_ACCESS_H
#define ENSO_GUEST_ACCESS_H

#include <enso/types.h>

/* True if [va, va + len) lies wholly in guest-owned virtual address space. */
bool guest_range_ok(uint64_t va, size_t len);

int copy_from_guest(void *dst, uint64_t va, size_t len);
int copy_to_guest(uint64_t va, const void *src, size_t len);
int clear_guest(uint64_t va, size_t len);

#define get_guest(var, va) copy_from_guest(&(var), (va), sizeof(var))
#define put_guest(var, va) copy_to_guest((va), &(var), sizeof(var))

#endif
