/*
 * Grant tables, version 1: HYPERVISOR_grant_table_op(unsigned int cmd, void *args,
 * unsigned int count), args pointing at an array of count structures of the type each
 * GNTTABOP_* command names. Numbers and layouts follow Xen 4.17's 64-bit x86 ABI; byte
 * offsets are checked by abi_check.c. The v2 entry format is not described.
 *
 * A domain's grant table is an array of grant_entry_v1 in pages it shares with the
 * hypervisor; entry ref grants domid access to (or lets it transfer into) frame.
 */
#ifndef ENSO_PUBLIC_GRANT_TABLE_H
#define ENSO_PUBLIC_GRANT_TABLE_H

#include <public/xen.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

struct grant_entry_v1 {
    uint16_t flags;  /* 0: GTF_*; the guest sets the type, the hypervisor the status */
    domid_t domid;   /* 2: the domain being granted access */
    uint32_t frame;  /* 4: guest frame shared (or, after a transfer, the frame received) */
};                   /* 8 bytes */

/* Entries the toolstack fills in for a new domain. */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE 0
#define GNTTAB_RESERVED_XENSTORE 1

/* grant_entry_v1.flags: the type in bits 0-1 ... */
#define GTF_invalid (0U << 0)         /* no grant */
#define GTF_permit_access (1U << 0)   /* domid may map or copy frame */
#define GTF_accept_transfer (2U << 0) /* domid may transfer a page into frame */
#define GTF_transitive (3U << 0)      /* v2 only */
#define GTF_type_mask (3U << 0)
/* ... for GTF_permit_access ... */
#define _GTF_readonly 2
#define GTF_readonly (1U << _GTF_readonly)       /* guest: read-only access only */
#define _GTF_reading 3
#define GTF_reading (1U << _GTF_reading)         /* hypervisor: mapped for reading */
#define _GTF_writing 4
#define GTF_writing (1U << _GTF_writing)         /* hypervisor: mapped for writing */
#define _GTF_PWT 5
#define GTF_PWT (1U << _GTF_PWT)                 /* cache attributes for the mapping */
#define _GTF_PCD 6
#define GTF_PCD (1U << _GTF_PCD)
#define _GTF_PAT 7
#define GTF_PAT (1U << _GTF_PAT)
#define _GTF_sub_page 8
#define GTF_sub_page (1U << _GTF_sub_page)       /* v2 only */
/* ... and for GTF_accept_transfer. */
#define _GTF_transfer_committed 2
#define GTF_transfer_committed (1U << _GTF_transfer_committed) /* a transfer started */
#define _GTF_transfer_completed 3
#define GTF_transfer_completed (1U << _GTF_transfer_completed) /* frame is valid */

#define GNTTABOP_map_grant_ref 0         /* struct gnttab_map_grant_ref */
#define GNTTABOP_unmap_grant_ref 1       /* struct gnttab_unmap_grant_ref */
#define GNTTABOP_setup_table 2           /* struct gnttab_setup_table */
#define GNTTABOP_dump_table 3            /* struct gnttab_dump_table */
#define GNTTABOP_transfer 4              /* struct gnttab_transfer */
#define GNTTABOP_copy 5                  /* struct gnttab_copy */
#define GNTTABOP_query_size 6            /* struct gnttab_query_size */
#define GNTTABOP_unmap_and_replace 7     /* struct gnttab_unmap_and_replace */
#define GNTTABOP_set_version 8           /* struct gnttab_set_version */
#define GNTTABOP_get_status_frames 9     /* v2 only */
#define GNTTABOP_get_version 10          /* struct gnttab_get_version */
#define GNTTABOP_swap_grant_ref 11
#define GNTTABOP_cache_flush 12          /* Arm only */

/* gnttab_map_grant_ref.flags */
#define _GNTMAP_device_map 0
#define GNTMAP_device_map (1 << _GNTMAP_device_map)           /* for I/O devices */
#define _GNTMAP_host_map 1
#define GNTMAP_host_map (1 << _GNTMAP_host_map)               /* for the CPU */
#define _GNTMAP_readonly 2
#define GNTMAP_readonly (1 << _GNTMAP_readonly)
#define _GNTMAP_application_map 3
#define GNTMAP_application_map (1 << _GNTMAP_application_map) /* user mode may use it */
#define _GNTMAP_contains_pte 4
#define GNTMAP_contains_pte (1 << _GNTMAP_contains_pte)       /* host_addr is a PTE's
                                                                 machine address */
#define _GNTMAP_guest_avail0 16
#define GNTMAP_guest_avail_mask 0xffff0000U /* bits 16-31: free for the guest */

/* Per-operation status codes (the status fields). */
#define GNTST_okay 0
#define GNTST_general_error (-1)
#define GNTST_bad_domain (-2)
#define GNTST_bad_gntref (-3)
#define GNTST_bad_handle (-4)
#define GNTST_bad_virt_addr (-5)
#define GNTST_bad_dev_addr (-6)
#define GNTST_no_device_space (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page (-9)
#define GNTST_bad_copy_arg (-10)
#define GNTST_address_too_big (-11)
#define GNTST_eagain (-12)
#define GNTST_no_space (-13)

/* Maps entry ref of dom's table at host_addr (a virtual address, or a PTE's machine
 * address with GNTMAP_contains_pte). */
struct gnttab_map_grant_ref {
    uint64_t host_addr;     /* 0: in */
    uint32_t flags;         /* 8: in, GNTMAP_* */
    grant_ref_t ref;        /* 12: in */
    domid_t dom;            /* 16: in */
    int16_t status;         /* 18: out, GNTST_* */
    grant_handle_t handle;  /* 20: out, for the unmap */
    uint64_t dev_bus_addr;  /* 24: out, with GNTMAP_device_map */
};                          /* 32 bytes */

struct gnttab_unmap_grant_ref {
    uint64_t host_addr;    /* 0: in */
    uint64_t dev_bus_addr; /* 8: in */
    grant_handle_t handle; /* 16: in */
    int16_t status;        /* 20: out */
};                         /* 24 bytes */

/* Sizes dom's table to nr_frames and returns the frames holding it in frame_list. */
struct gnttab_setup_table {
    domid_t dom;                             /* 0: in */
    uint32_t nr_frames;                      /* 4: in */
    int16_t status;                          /* 8: out */
    ENSO_GUEST_HANDLE(xen_pfn_t) frame_list; /* 16: out */
};                                           /* 24 bytes */

struct gnttab_dump_table {
    domid_t dom;    /* 0: in */
    int16_t status; /* 2: out */
};                  /* 4 bytes */

/* Gives page mfn to domid, into the frame its entry ref accepts. */
struct gnttab_transfer {
    xen_pfn_t mfn;   /* 0: in */
    domid_t domid;   /* 8: in */
    grant_ref_t ref; /* 12: in */
    int16_t status;  /* 16: out */
};                   /* 24 bytes */

/* gnttab_copy.flags: whether source / dest are grant references or frames. */
#define _GNTCOPY_source_gref 0
#define GNTCOPY_source_gref (1 << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref 1
#define GNTCOPY_dest_gref (1 << _GNTCOPY_dest_gref)

struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;  /* 0 */
        xen_pfn_t gmfn;   /* 0 */
    } u;
    domid_t domid;        /* 8 */
    uint16_t offset;      /* 10: byte offset in the page */
};                        /* 16 bytes */

/* Copies len bytes; neither side may cross a page boundary. */
struct gnttab_copy {
    struct gnttab_copy_ptr source; /* 0 */
    struct gnttab_copy_ptr dest;   /* 16 */
    uint16_t len;                  /* 32 */
    uint16_t flags;                /* 34: GNTCOPY_* */
    int16_t status;                /* 36: out */
};                                 /* 40 bytes */

struct gnttab_query_size {
    domid_t dom;            /* 0: in */
    uint32_t nr_frames;     /* 4: out */
    uint32_t max_nr_frames; /* 8: out */
    int16_t status;         /* 12: out */
};                          /* 16 bytes */

struct gnttab_unmap_and_replace {
    uint64_t host_addr;    /* 0: in */
    uint64_t new_addr;     /* 8: in */
    grant_handle_t handle; /* 16: in */
    int16_t status;        /* 20: out */
};                         /* 24 bytes */

struct gnttab_set_version {
    uint32_t version; /* 0: in (1 here), out: the version in force */
};                    /* 4 bytes */

struct gnttab_get_version {
    domid_t dom;      /* 0: in */
    uint16_t pad;     /* 2 */
    uint32_t version; /* 4: out */
};                    /* 8 bytes */

#endif
