/*
 * Platform operations for the control domain: HYPERVISOR_platform_op(struct
 * xen_platform_op *op). Only the commands enso implements are defined here. Numbers and
 * layouts follow Xen 4.17's 64-bit x86 ABI; sizes are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_PLATFORM_H
#define ENSO_PUBLIC_PLATFORM_H

#include <public/xen.h>

/* op->interface_version must be this, or the call fails with -EACCES. */
#define XENPF_INTERFACE_VERSION 0x03000001

/*
 * Set the wall clock: at system time system_time (ns since boot) it reads secs seconds
 * and nsecs nanoseconds after 1970-01-01 00:00:00 UTC. What the domains' shared_info
 * then carries is the wall clock at system time 0 (secs * 10^9 + nsecs - system_time,
 * computed modulo 2^64).
 */
#define XENPF_settime32 17
struct xenpf_settime32 {
    uint32_t secs;        /* 0 */
    uint32_t nsecs;       /* 4 */
    uint64_t system_time; /* 8 */
};                        /* 16 bytes */

#define XENPF_settime64 62
struct xenpf_settime64 {
    uint64_t secs;        /* 0 */
    uint32_t nsecs;       /* 8 */
    uint32_t mbz;         /* 12: must be zero (-EINVAL otherwise) */
    uint64_t system_time; /* 16 */
};                        /* 24 bytes */

struct xen_platform_op {
    uint32_t cmd;               /* 0: XENPF_* */
    uint32_t interface_version; /* 4: XENPF_INTERFACE_VERSION */
    union {
        struct xenpf_settime32 settime32;
        struct xenpf_settime64 settime64;
        uint8_t pad[128];
    } u;                        /* 8 */
};                              /* 136 bytes */

ENSO_DEFINE_GUEST_HANDLE(xen_platform_op, struct xen_platform_op);

#endif
