/*
 * Segment descriptors of 64-bit PV guests (arch/x86/pv/descriptors.c): descriptor
 * pages, the GDT of set_gdt, update_descriptor and the LDT of MMUEXT_SET_LDT.
 *
 * A guest's GDT and LDT live in frames of type PGT_seg_desc_page: every descriptor in
 * them has passed pv_check_descriptor, and no writable mapping of them exists while
 * the type is held. They reach the CPU through the vCPU's windows in the per-domain
 * area (asm/domain.h): GDT pages 0-13 as set_gdt gives them, LDT pages mapped one by
 * one on the first fault in the LDT window.
 */
#ifndef ASM_PV_DESC_H
#define ASM_PV_DESC_H

#include <enso/hypercall.h>
#include <enso/types.h>
#include <asm/regs.h>

struct page_info;
struct vcpu;

#define GDT_GUEST_ENTRIES 7168    /* 14 pages: entries from 0xe000 up are enso's */
#define LDT_MAX_ENTRIES 8192      /* the whole 64 KiB LDT window */

/*
 * Xen's rules for one 8-byte descriptor of a 64-bit PV guest. Returns false if the
 * guest may not have it; otherwise true, with *desc possibly rewritten (DPL raised
 * to 3, call gates made DPL 0).
 */
bool pv_check_descriptor(uint64_t *desc);

/* Validation on the first PGT_seg_desc_page reference: 0 or -EINVAL. */
int pv_validate_desc_page(struct page_info *pg);

long do_set_gdt(hc_arg_t frame_list, hc_arg_t entries);
/*
 * set_gdt for vCPU v (the current one, or one that is not running): at most 7168
 * entries, each of the frames they need taken as a descriptor page, else -EINVAL with
 * nothing changed; the old frames are released. The caller flushes the window's old
 * translations if v is running here.
 */
int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries);
long do_update_descriptor(hc_arg_t maddr, hc_arg_t desc);

/* MMUEXT_SET_LDT for the current vCPU v. */
int pv_set_ldt(struct vcpu *v, uint64_t base, unsigned int ents);

/* Drop the LDT pages mapped so far (they are mapped again on the next fault); true if
 * there were any, and the caller must then flush this CPU's TLB. */
bool pv_release_ldt_pages(struct vcpu *v);

/* Context switch: load v's LDT (or a null one) on this CPU. */
void pv_load_ldt(const struct vcpu *v);

/*
 * A guest #PF at cr2: if it lies in the current vCPU's LDT window, map the LDT page
 * (the access is retried) or give the guest the #PF / #GP Xen gives. True if handled.
 */
bool pv_ldt_page_fault(struct cpu_user_regs *regs, uint64_t cr2);

/*
 * True if sel is an LDT selector of v whose LDT page is mapped, so that lar or a
 * segment load with it cannot fault in enso (the LDT register must be v's).
 */
bool pv_ldt_selector_mapped(const struct vcpu *v, uint16_t sel);

/* Teardown: drop every GDT and LDT frame reference v holds. v must not be running. */
void pv_vcpu_release_descriptors(struct vcpu *v);

#endif
