/*
 * Physical device operations: HYPERVISOR_physdev_op(int cmd, void *arg). Only the
 * commands a PV guest needs for I/O privilege and interrupt acknowledgement are
 * described; the others have their numbers only. Values follow Xen 4.17's 64-bit x86
 * ABI; byte offsets are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_PHYSDEV_H
#define ENSO_PUBLIC_PHYSDEV_H

#include <public/xen.h>

#define PHYSDEVOP_irq_status_query 5   /* struct physdev_irq_status_query */
#define PHYSDEVOP_set_iopl 6           /* struct physdev_set_iopl */
#define PHYSDEVOP_set_iobitmap 7       /* struct physdev_set_iobitmap */
#define PHYSDEVOP_apic_read 8
#define PHYSDEVOP_apic_write 9
#define PHYSDEVOP_alloc_irq_vector 10
#define PHYSDEVOP_free_irq_vector 11
#define PHYSDEVOP_eoi 12               /* struct physdev_eoi */
#define PHYSDEVOP_map_pirq 13
#define PHYSDEVOP_unmap_pirq 14
#define PHYSDEVOP_manage_pci_add 15
#define PHYSDEVOP_manage_pci_remove 16
#define PHYSDEVOP_pirq_eoi_gmfn_v1 17  /* struct physdev_pirq_eoi_gmfn */
#define PHYSDEVOP_restore_msi 19
#define PHYSDEVOP_manage_pci_add_ext 20
#define PHYSDEVOP_setup_gsi 21
#define PHYSDEVOP_get_free_pirq 23
#define PHYSDEVOP_pci_mmcfg_reserved 24
#define PHYSDEVOP_pci_device_add 25
#define PHYSDEVOP_pci_device_remove 26
#define PHYSDEVOP_restore_msi_ext 27
#define PHYSDEVOP_pirq_eoi_gmfn_v2 28  /* struct physdev_pirq_eoi_gmfn */
#define PHYSDEVOP_dbgp_op 29
#define PHYSDEVOP_prepare_msix 30
#define PHYSDEVOP_release_msix 31

struct physdev_eoi {
    uint32_t irq; /* 0: in */
};                /* 4 bytes */

/* Registers a page of bits, one per PIRQ, set while the PIRQ needs an EOI. */
struct physdev_pirq_eoi_gmfn {
    xen_pfn_t gmfn; /* 0: in */
};                  /* 8 bytes */

#define _XENIRQSTAT_needs_eoi 0
#define XENIRQSTAT_needs_eoi (1U << _XENIRQSTAT_needs_eoi)
#define _XENIRQSTAT_shared 1
#define XENIRQSTAT_shared (1U << _XENIRQSTAT_shared)

struct physdev_irq_status_query {
    uint32_t irq;   /* 0: in */
    uint32_t flags; /* 4: out, XENIRQSTAT_* */
};                  /* 8 bytes */

/* The I/O privilege level the guest kernel runs with (0-3). */
struct physdev_set_iopl {
    uint32_t iopl; /* 0: in */
};                 /* 4 bytes */

/* A bitmap of ports, as in a TSS (bit set = access denied), covering nr_ports. */
struct physdev_set_iobitmap {
    ENSO_GUEST_HANDLE(uint8) bitmap; /* 0: in */
    uint32_t nr_ports;               /* 8: in */
    uint32_t pad_;                   /* 12: implicit padding in Xen's layout */
};                                   /* 16 bytes */

#endif
