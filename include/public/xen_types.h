/*
 * Basic types of enso's guest ABI (the 64-bit x86 Xen PV interface, as of Xen 4.17).
 *
 * Everything under include/public/ describes memory shared with guests or passed to and
 * from hypercalls, so it only uses fixed-width integers and depends on nothing from the
 * hypervisor. Guests and the hypervisor include these headers as <public/xen.h> etc.
 * Only the 64-bit ABI is described: "long" fields of the Xen headers are written as
 * uint64_t here, which is the same thing on x86-64 and says so outright.
 */
#ifndef ENSO_PUBLIC_XEN_TYPES_H
#define ENSO_PUBLIC_XEN_TYPES_H

#include <stdint.h>

#if !defined(__x86_64__)
#error "enso's public headers describe the 64-bit x86 guest ABI only"
#endif

/* A frame number (guest or machine, depending on the call) and a register-width word. */
typedef uint64_t xen_pfn_t;
typedef uint64_t xen_ulong_t;
/* Domain ids are 16 bits wide; see DOMID_* in xen.h for the reserved ones. */
typedef uint16_t domid_t;
/* A guest virtual address the hypervisor calls back to (callback.h, vcpu context). */
typedef uint64_t xen_callback_t;

/*
 * Guest handles.
 *
 * Xen passes buffers as "guest handles": on x86 a struct holding one pointer, so 8 bytes
 * aligned to 8 in the 64-bit ABI. Inside enso a handle is a guest virtual address that
 * must only be reached through the copy-to/from-guest helpers, never dereferenced, so
 * enso stores it as an integer, p. The union's zero-length member t_ takes no space;
 * it only remembers the element type, so that helpers can write
 * ENSO_GUEST_HANDLE_TYPE(h) or sizeof(*(h).t_[0]) for the size of one element. Using
 * the integer means a stray "*h" or "h->x" in hypervisor code fails to compile.
 *
 * Handles are named after the element type, as in Xen: ENSO_DEFINE_GUEST_HANDLE(name,
 * type) declares the handle type once (along with a const_ variant) and
 * ENSO_GUEST_HANDLE(name) names it, so two fields of the same handle type can be assigned
 * to each other. Layout: 8 bytes, 8-aligned, exactly as Xen's struct { type *p; }.
 */
#define ENSO_DEFINE_GUEST_HANDLE_ONE(name, type) \
    __extension__ typedef union { uint64_t p; type *t_[0]; } enso_guest_handle_##name
#define ENSO_DEFINE_GUEST_HANDLE(name, type)          \
    ENSO_DEFINE_GUEST_HANDLE_ONE(name, type);         \
    ENSO_DEFINE_GUEST_HANDLE_ONE(const_##name, const type)
#define ENSO_GUEST_HANDLE(name) enso_guest_handle_##name

/* The element type a handle points at, and the address it holds. */
#define ENSO_GUEST_HANDLE_TYPE(h) __typeof__(*(h).t_[0])
#define enso_guest_handle_addr(h) ((h).p)
/* For guests filling a handle in: store a pointer of their own address space. */
#define enso_set_guest_handle(h, ptr) ((h).p = (uint64_t)(uintptr_t)(ptr))
#define enso_guest_handle_is_null(h) ((h).p == 0)

ENSO_DEFINE_GUEST_HANDLE(void, void);
ENSO_DEFINE_GUEST_HANDLE(char, char);
ENSO_DEFINE_GUEST_HANDLE(int, int);
ENSO_DEFINE_GUEST_HANDLE(uint, unsigned int);
ENSO_DEFINE_GUEST_HANDLE(uint8, uint8_t);
ENSO_DEFINE_GUEST_HANDLE(uint64, uint64_t);
ENSO_DEFINE_GUEST_HANDLE(xen_pfn_t, xen_pfn_t);
ENSO_DEFINE_GUEST_HANDLE(xen_ulong_t, xen_ulong_t);

#endif
