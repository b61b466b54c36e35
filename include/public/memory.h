/*
 * Memory reservation and physmap operations: HYPERVISOR_memory_op(unsigned int cmd,
 * void *arg). Numbers and layouts follow Xen 4.17's 64-bit x86 ABI; byte offsets are
 * checked by abi_check.c. For sub-operations that return a count (reservation calls),
 * the result is the number of extents done.
 */
#ifndef ENSO_PUBLIC_MEMORY_H
#define ENSO_PUBLIC_MEMORY_H

#include <public/xen.h>

#define XENMEM_increase_reservation 0       /* struct xen_memory_reservation */
#define XENMEM_decrease_reservation 1       /* struct xen_memory_reservation */
#define XENMEM_maximum_ram_page 2           /* arg unused: highest machine frame */
#define XENMEM_current_reservation 3        /* domid_t: pages the domain has */
#define XENMEM_maximum_reservation 4        /* domid_t: its limit */
#define XENMEM_machphys_mfn_list 5          /* struct xen_machphys_mfn_list */
#define XENMEM_populate_physmap 6           /* struct xen_memory_reservation */
#define XENMEM_add_to_physmap 7             /* struct xen_add_to_physmap */
/* 8 is unused. */
#define XENMEM_memory_map 9                 /* struct xen_memory_map: the guest's */
#define XENMEM_machine_memory_map 10        /* struct xen_memory_map: the host's */
#define XENMEM_exchange 11                  /* struct xen_memory_exchange */
#define XENMEM_machphys_mapping 12          /* struct xen_machphys_mapping */
#define XENMEM_set_memory_map 13            /* struct xen_foreign_memory_map */
#define XENMEM_maximum_gpfn 14              /* domid_t: highest guest pfn */
#define XENMEM_remove_from_physmap 15       /* struct xen_remove_from_physmap */
#define XENMEM_set_pod_target 16            /* struct xen_pod_target */
#define XENMEM_get_pod_target 17            /* struct xen_pod_target */
#define XENMEM_get_sharing_freed_pages 18
#define XENMEM_get_sharing_shared_pages 19
#define XENMEM_paging_op 20
#define XENMEM_access_op 21
#define XENMEM_sharing_op 22
#define XENMEM_add_to_physmap_batch 23      /* struct xen_add_to_physmap_batch */
#define XENMEM_claim_pages 24               /* struct xen_memory_reservation */
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo 26
#define XENMEM_reserved_device_memory_map 27
#define XENMEM_acquire_resource 28          /* struct xen_mem_acquire_resource */

/*
 * xen_memory_reservation.mem_flags: bits 0-7 are the address width the frames must fit
 * in (0 = any), bits 8-15 are a NUMA node plus one (0 = any), then flags.
 */
#define XENMEMF_address_bits(x) (x)
#define XENMEMF_get_address_bits(x) ((x) & 0xffU)
#define XENMEMF_node(x) (((x) + 1) << 8)
#define XENMEMF_get_node(x) ((((x) >> 8) - 1) & 0xffU)
#define XENMEMF_populate_on_demand (1 << 16)
#define XENMEMF_exact_node_request (1 << 17)
#define XENMEMF_exact_node(n) (XENMEMF_node(n) | XENMEMF_exact_node_request)
#define XENMEMF_vnode (1 << 18)

/*
 * extent_start is an array of nr_extents frame numbers, each the base of an extent of
 * 2^extent_order pages: out for increase_reservation (machine frames), in for
 * decrease_reservation, in/out for populate_physmap (guest pfns in, frames out).
 */
struct xen_memory_reservation {
    ENSO_GUEST_HANDLE(xen_pfn_t) extent_start; /* 0 */
    xen_ulong_t nr_extents;                    /* 8 */
    uint32_t extent_order;                     /* 16 */
    uint32_t mem_flags;                        /* 20: XENMEMF_* */
    domid_t domid;                             /* 24: DOMID_SELF unless privileged */
    uint16_t pad_[3];                          /* 26: implicit padding in Xen's layout */
};                                             /* 32 bytes */

/*
 * Trades the extents of in for fresh ones described by out (same total size, same
 * domain). nr_exchanged counts the input extents done and must be 0 on the call.
 */
struct xen_memory_exchange {
    struct xen_memory_reservation in;  /* 0 */
    struct xen_memory_reservation out; /* 32 */
    xen_ulong_t nr_exchanged;          /* 64 */
};                                     /* 72 bytes */

struct xen_memory_domain {
    domid_t domid; /* 0 */
};                 /* 2 bytes */

/* Fills extent_start with the machine frames that back the M2P table, 2 MiB each. */
struct xen_machphys_mfn_list {
    uint32_t max_extents;                      /* 0: in, room in extent_start */
    uint32_t pad_;                             /* 4: implicit padding in Xen's layout */
    ENSO_GUEST_HANDLE(xen_pfn_t) extent_start; /* 8 */
    uint32_t nr_extents;                       /* 16: out */
    uint32_t pad2_;                            /* 20 */
};                                             /* 24 bytes */

/* Where the read-only M2P table is mapped in the guest, and its last valid entry. */
struct xen_machphys_mapping {
    xen_ulong_t v_start; /* 0 */
    xen_ulong_t v_end;   /* 8 */
    xen_ulong_t max_mfn; /* 16 */
};                       /* 24 bytes */

/* Spaces XENMEM_add_to_physmap maps pages from. */
#define XENMAPSPACE_shared_info 0  /* idx 0: the shared info page */
#define XENMAPSPACE_grant_table 1  /* idx: grant table frame (| XENMAPIDX_...status) */
#define XENMAPSPACE_gmfn 2         /* idx: another guest frame of the domain */
#define XENMAPSPACE_gmfn_range 3   /* as gmfn, size frames */
#define XENMAPSPACE_gmfn_foreign 4 /* a frame of another domain (batch form only) */
#define XENMAPSPACE_dev_mmio 5     /* device MMIO (Arm only) */

#define XENMAPIDX_grant_table_status 0x80000000U

struct xen_add_to_physmap {
    domid_t domid;   /* 0 */
    uint16_t size;   /* 2: frames, for XENMAPSPACE_gmfn_range */
    uint32_t space;  /* 4: XENMAPSPACE_* */
    xen_ulong_t idx; /* 8: index into the space */
    xen_pfn_t gpfn;  /* 16: where it appears in the guest */
};                   /* 24 bytes */

struct xen_add_to_physmap_batch {
    domid_t domid;                        /* 0 */
    uint16_t space;                       /* 2: XENMAPSPACE_* */
    uint16_t size;                        /* 4: entries in each array */
    union {
        domid_t foreign_domid;            /* 6: for XENMAPSPACE_gmfn_foreign */
        uint16_t res0;                    /* 6: otherwise 0 */
    } u;
    ENSO_GUEST_HANDLE(xen_ulong_t) idxs;  /* 8: in */
    ENSO_GUEST_HANDLE(xen_pfn_t) gpfns;   /* 16: in */
    ENSO_GUEST_HANDLE(int) errs;          /* 24: out, per entry */
};                                        /* 32 bytes */

struct xen_remove_from_physmap {
    domid_t domid;   /* 0 */
    uint16_t pad_[3]; /* 2: implicit padding in Xen's layout */
    xen_pfn_t gpfn;  /* 8 */
};                   /* 16 bytes */

/* buffer holds nr_entries struct xen_e820_entry; nr_entries is room in, count out. */
struct xen_memory_map {
    uint32_t nr_entries;           /* 0 */
    uint32_t pad_;                 /* 4: implicit padding in Xen's layout */
    ENSO_GUEST_HANDLE(void) buffer; /* 8 */
};                                 /* 16 bytes */

struct xen_foreign_memory_map {
    domid_t domid;             /* 0 */
    uint16_t pad_[3];          /* 2: implicit padding in Xen's layout */
    struct xen_memory_map map; /* 8 */
};                             /* 24 bytes */

/*
 * A memory map entry as the BIOS's INT 15h, AX=E820h returns it: 20 bytes, packed. The
 * map buffers of XENMEM_memory_map and friends are arrays of these.
 */
#define XEN_E820_RAM 1
#define XEN_E820_RESERVED 2
#define XEN_E820_ACPI 3
#define XEN_E820_NVS 4
#define XEN_E820_UNUSABLE 5

struct __attribute__((packed)) xen_e820_entry {
    uint64_t addr; /* 0 */
    uint64_t size; /* 8 */
    uint32_t type; /* 16: XEN_E820_* */
};                 /* 20 bytes */

struct xen_pod_target {
    uint64_t target_pages;    /* 0: in */
    uint64_t tot_pages;       /* 8: out */
    uint64_t pod_cache_pages; /* 16: out */
    uint64_t pod_entries;     /* 24: out */
    domid_t domid;            /* 32: in */
    uint16_t pad_[3];         /* 34: implicit padding in Xen's layout */
};                            /* 40 bytes */

/* Maps frames of a resource of another domain (ioreq server, grant table, ...). */
#define XENMEM_resource_ioreq_server 0
#define XENMEM_resource_grant_table 1
#define XENMEM_resource_vmtrace_buf 2
#define XENMEM_resource_grant_table_id_shared 0
#define XENMEM_resource_grant_table_id_status 1

struct xen_mem_acquire_resource {
    domid_t domid;                           /* 0 */
    uint16_t type;                           /* 2: XENMEM_resource_* */
    uint32_t id;                             /* 4 */
    uint32_t nr_frames;                      /* 8: in/out */
    uint32_t pad;                            /* 12: must be 0 */
    uint64_t frame;                          /* 16: first frame */
    ENSO_GUEST_HANDLE(xen_pfn_t) frame_list; /* 24 */
};                                           /* 32 bytes */

/*
 * XENMEM_access_op: per-page access rights of an HVM domain (for a monitoring domain).
 * Only the layout is needed here: every PV target is refused.
 */
#define XENMEM_access_op_set_access 0
#define XENMEM_access_op_get_access 1
#define XENMEM_access_op_set_access_multi 4

struct xen_mem_access_op {
    uint8_t op;                                /* 0: XENMEM_access_op_* */
    uint8_t access;                            /* 1: xenmem_access_t */
    domid_t domid;                             /* 2 */
    uint32_t nr;                               /* 4: pages (or list entries) */
    uint64_t pfn;                              /* 8: first pfn, ~0 for the default */
    ENSO_GUEST_HANDLE(const_uint64) pfn_list;  /* 16: for set_access_multi */
    ENSO_GUEST_HANDLE(const_uint8) access_list; /* 24: for set_access_multi */
};                                             /* 32 bytes */

/*
 * XENMEM_reserved_device_memory_map: the guest-physical ranges an IOMMU's tables keep
 * for devices (RMRRs and the like), which a toolstack must not fill with RAM.
 * nr_entries is room in, the number of ranges out.
 */
#define XENMEM_RDM_ALL 1 /* flags: every range, whatever dev says */

struct xen_reserved_device_memory {
    xen_pfn_t start_pfn;  /* 0 */
    xen_ulong_t nr_pages; /* 8 */
};                        /* 16 bytes */
ENSO_DEFINE_GUEST_HANDLE(xen_reserved_device_memory, struct xen_reserved_device_memory);

struct xen_reserved_device_memory_map {
    uint32_t flags;                                        /* 0: XENMEM_RDM_* */
    uint32_t nr_entries;                                   /* 4: in/out */
    ENSO_GUEST_HANDLE(xen_reserved_device_memory) buffer;  /* 8 */
    union {
        struct {                                           /* physdev_pci_device */
            uint16_t seg;                                  /* 16 */
            uint8_t bus;                                   /* 18 */
            uint8_t devfn;                                 /* 19 */
        } pci;
    } dev;                                                 /* 16: without RDM_ALL */
    uint32_t pad_;                                         /* 20: implicit padding */
};                                                         /* 24 bytes */

/* XENMEM_get_vnumainfo: a domain's virtual NUMA layout, where the toolstack gave one. */
struct xen_vmemrange {
    uint64_t start; /* 0 */
    uint64_t end;   /* 8 */
    uint32_t flags; /* 16 */
    uint32_t nid;   /* 20 */
};                  /* 24 bytes */
ENSO_DEFINE_GUEST_HANDLE(xen_vmemrange, struct xen_vmemrange);

struct xen_vnuma_topology_info {
    domid_t domid;                                   /* 0 */
    uint16_t pad;                                    /* 2: must be 0 */
    uint32_t nr_vnodes;                              /* 4: room in, count out */
    uint32_t nr_vcpus;                               /* 8: room in, count out */
    uint32_t nr_vmemranges;                          /* 12: room in, count out */
    union {
        ENSO_GUEST_HANDLE(uint) h;                   /* nr_vnodes^2 distances */
        uint64_t pad;
    } vdistance;                                     /* 16 */
    union {
        ENSO_GUEST_HANDLE(uint) h;                   /* a node per vCPU */
        uint64_t pad;
    } vcpu_to_vnode;                                 /* 24 */
    union {
        ENSO_GUEST_HANDLE(xen_vmemrange) h;
        uint64_t pad;
    } vmemrange;                                     /* 32 */
};                                                   /* 40 bytes */

#endif
