/*
 * Version and capability queries: HYPERVISOR_xen_version(int cmd, void *arg). Numbers
 * and layouts follow Xen 4.17's 64-bit x86 ABI; sizes are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_VERSION_H
#define ENSO_PUBLIC_VERSION_H

#include <public/xen.h>
#include <public/features.h>

#define XENVER_version 0             /* arg unused; returns major << 16 | minor */
#define XENVER_extraversion 1        /* xen_extraversion_t, e.g. ".0" */
#define XENVER_compile_info 2        /* struct xen_compile_info */
#define XENVER_capabilities 3        /* xen_capabilities_info_t, e.g. "xen-3.0-x86_64 " */
#define XENVER_changeset 4           /* xen_changeset_info_t */
#define XENVER_platform_parameters 5 /* struct xen_platform_parameters */
#define XENVER_get_features 6        /* struct xen_feature_info */
#define XENVER_pagesize 7            /* arg unused; returns the page size */
#define XENVER_guest_handle 8        /* xen_domain_handle_t */
#define XENVER_commandline 9         /* xen_commandline_t */
#define XENVER_build_id 10           /* struct xen_build_id */

/* The string results are NUL-terminated within these sizes. */
typedef char xen_extraversion_t[16];
typedef char xen_capabilities_info_t[1024];
typedef char xen_changeset_info_t[64];
typedef char xen_commandline_t[1024];
#define XEN_EXTRAVERSION_LEN (sizeof(xen_extraversion_t))
#define XEN_CAPABILITIES_INFO_LEN (sizeof(xen_capabilities_info_t))
#define XEN_CHANGESET_INFO_LEN (sizeof(xen_changeset_info_t))

struct xen_compile_info {
    char compiler[64];       /* 0 */
    char compile_by[16];     /* 64 */
    char compile_domain[32]; /* 80 */
    char compile_date[32];   /* 112 */
};                           /* 144 bytes */

/* Lowest address of the hypervisor's hole in the guest's address space. */
struct xen_platform_parameters {
    xen_ulong_t virt_start; /* 0 */
};                          /* 8 bytes */

/* Returns 32 bits of the XENFEAT_* map: bits submap_idx * 32 ... + 31. */
struct xen_feature_info {
    uint32_t submap_idx; /* 0: in */
    uint32_t submap;     /* 4: out */
};                       /* 8 bytes */

/* len is the room in buf on the call; the result is the build id's length. */
struct xen_build_id {
    uint32_t len;           /* 0 */
    unsigned char buf[];    /* 4 */
};                          /* 4 bytes plus buf */

#endif
