/*
 * What a 64-bit PV kernel asks of its domain builder, read from its Xen ELF notes
 * (public/elfnote.h) or, for old kernels, its __xen_guest section, and checked the way
 * Xen 4.17 does before it builds a domain: same defaults, same acceptance rules, same
 * address arithmetic. Where Xen would read out of a note's bounds, enso refuses the
 * image instead.
 */
#ifndef ENSO_XEN_ELFNOTES_H
#define ENSO_XEN_ELFNOTES_H

#include <enso/elf.h>
#include <public/features.h>

/* An address the kernel did not give (a note carrying this value counts as absent). */
#define XEN_UNSET_ADDR (~(uint64_t)0)
#define XEN_UNSET_ADDR32 (~(uint32_t)0)

#define XEN_GUEST_STR_LEN 16   /* string notes are kept truncated to 15 characters */

/* PAE_MODE; only 32-bit kernels act on it. A note saying "yes" means EXTCR3. */
enum xen_pae_mode { XEN_PAE_NO, XEN_PAE_YES, XEN_PAE_EXTCR3, XEN_PAE_BIMODAL };

struct xen_guest_params {
    /* The kernel is loaded at [virt_kstart, virt_kend): each loadable segment at
       p_paddr + virt_offset, where virt_offset = virt_base - elf_paddr_offset. */
    uint64_t virt_base;           /* VIRT_BASE; 0 when absent */
    uint64_t elf_paddr_offset;    /* PADDR_OFFSET; 0 when absent (virt_base with
                                     __xen_guest) */
    uint64_t virt_offset;
    uint64_t virt_kstart, virt_kend;
    uint64_t virt_entry;          /* ENTRY; e_entry when absent */
    uint64_t virt_hypercall;      /* HYPERCALL_PAGE, or XEN_UNSET_ADDR */
    uint64_t virt_hv_start_low;   /* HV_START_LOW, or XEN_UNSET_ADDR */
    uint64_t p2m_base;            /* INIT_P2M, or XEN_UNSET_ADDR */
    uint32_t phys_entry;          /* PHYS32_ENTRY (PVH only), or XEN_UNSET_ADDR32 */
    bool has_hypercall_page, has_hv_start_low, has_p2m_base, has_phys_entry;
    bool mod_start_pfn;           /* MOD_START_PFN != 0: initrd may be left unmapped */
    bool suspend_cancel;          /* SUSPEND_CANCEL != 0 */
    bool bsd_symtab;              /* BSD_SYMTAB "yes" (enso does not load symbols) */
    bool legacy_guest_info;       /* from a __xen_guest section, not notes */
    enum xen_pae_mode pae;
    uint32_t notes_seen;          /* bit n: a note of type n <= XEN_ELFNOTE_MAX was read
                                     (e.g. SUPPORTED_FEATURES present => dom0 check) */
    uint32_t f_supported[XENFEAT_NR_SUBMAPS];  /* FEATURES names, SUPPORTED_FEATURES */
    uint32_t f_required[XENFEAT_NR_SUBMAPS];   /* FEATURES names with '!' */
    char guest_os[XEN_GUEST_STR_LEN], guest_ver[XEN_GUEST_STR_LEN];
    char xen_ver[XEN_GUEST_STR_LEN], loader[XEN_GUEST_STR_LEN];
};

/*
 * Read the notes of a parsed image into *p, apply the defaults and check the result:
 * some Xen notes (or __xen_guest) present; LOADER starting "generic" or GUEST_OS
 * starting "linux"; XEN_VERSION starting "xen-3.0"; no required feature enso does not
 * know; virt_kstart < virt_kend; VIRT_BASE <= virt_kstart; entry and hypercall page
 * inside [virt_kstart, virt_kend); INIT_P2M outside it. Returns 0, or -EINVAL with *why
 * naming the problem ("kernel has no Xen ELF notes", "Xen notes: entry outside the
 * kernel", ...).
 */
int xen_elfnotes_parse(const struct elf_image *img, struct xen_guest_params *p,
                       const char **why);

/*
 * Copy each loadable segment to guest virtual p_paddr + p->virt_offset through write:
 * filesz bytes of data, then memsz - filesz zeroes (src == NULL). Stops at the first
 * nonzero return of write and returns it.
 */
int elf_load_segments(const struct elf_image *img, const struct xen_guest_params *p,
                      int (*write)(void *ctx, uint64_t va, const void *src, size_t len),
                      void *ctx);

#endif
