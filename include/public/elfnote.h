/*
 * ELF notes a PV kernel carries to tell the domain builder how to load it. Each is an
 * ELF note with owner name "Xen" and one of these types; the descriptor is a string
 * (NUL-terminated) or a number (little-endian, 4 or 8 bytes, as the note's size says).
 * Values follow Xen 4.17. This header is usable from assembly too.
 */
#ifndef ENSO_PUBLIC_ELFNOTE_H
#define ENSO_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_NAME "Xen"

#define XEN_ELFNOTE_INFO 0              /* string: NAME=VALUE */
#define XEN_ELFNOTE_ENTRY 1             /* number: virtual address of the entry point */
#define XEN_ELFNOTE_HYPERCALL_PAGE 2    /* number: virtual address for the hypercall page */
#define XEN_ELFNOTE_VIRT_BASE 3         /* number: where the image is mapped (default 0) */
#define XEN_ELFNOTE_PADDR_OFFSET 4      /* number: subtracted from ELF paddrs (default 0) */
#define XEN_ELFNOTE_XEN_VERSION 5       /* string: hypervisor version wanted, "xen-3.0" */
#define XEN_ELFNOTE_GUEST_OS 6          /* string: e.g. "linux" */
#define XEN_ELFNOTE_GUEST_VERSION 7     /* string */
#define XEN_ELFNOTE_LOADER 8            /* string: "generic" */
#define XEN_ELFNOTE_PAE_MODE 9          /* string: "yes", "no", "bimodal" (32-bit only) */
#define XEN_ELFNOTE_FEATURES 10         /* string: XENFEAT_ names without the prefix,
                                           '|'-separated, '!' in front = required */
#define XEN_ELFNOTE_BSD_SYMTAB 11       /* string: "yes" to have the symbol table loaded */
#define XEN_ELFNOTE_HV_START_LOW 12     /* number: lowest start of the hypervisor hole */
#define XEN_ELFNOTE_L1_MFN_VALID 13     /* numbers: mask/value pairs for not-present
                                           L1 entries that still hold a frame */
#define XEN_ELFNOTE_SUSPEND_CANCEL 14   /* number: cooperative suspend cancel (default 0) */
#define XEN_ELFNOTE_INIT_P2M 15         /* number: virtual address for the initial p2m */
#define XEN_ELFNOTE_MOD_START_PFN 16    /* number: accepts an unmapped initrd (by pfn) */
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17 /* number: XENFEAT_ bitmap */
#define XEN_ELFNOTE_PHYS32_ENTRY 18     /* number: 32-bit physical entry (PVH) */
#define XEN_ELFNOTE_MAX XEN_ELFNOTE_PHYS32_ENTRY

/* Notes written into crash and core dumps. */
#define XEN_ELFNOTE_CRASH_INFO 0x1000001
#define XEN_ELFNOTE_CRASH_REGS 0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE 0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER 0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION 0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

#endif
