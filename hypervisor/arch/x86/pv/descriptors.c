/*
 * Segment descriptors of 64-bit PV guests: PGT_seg_desc_page validation, set_gdt,
 * update_descriptor, MMUEXT_SET_LDT and the lazily mapped LDT. The rules are Xen
 * 4.17's; see <asm/pv_desc.h> for the model.
 *
 * The guest kernel runs in ring 3, so a descriptor may not grant more than ring 3:
 * present code and data descriptors get DPL 3 whatever the guest wrote (the frame
 * itself is rewritten), and of the system descriptors only call gates stay, forced to
 * DPL 0 so that any use faults (their original DPL kept in the target's RPL). A
 * descriptor that is not present, or of system type 0 (the upper half of a 16-byte
 * gate), never takes effect and is left alone.
 *
 * Only the vCPU itself changes its windows (set_gdt, SET_LDT and the LDT fault all run
 * on the current vCPU; VCPUOP_initialise sets the GDT of a vCPU that has never run), so
 * they need no lock; the page references are atomic.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/lib.h>
#include <enso/sched.h>
#include <asm/desc.h>
#include <asm/domain.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>
#include <public/xen.h>

/* Bits of a descriptor's upper 32 bits. */
#define SEG_TYPE (0xfU << 8)
#define SEG_S (1U << 12)          /* code or data (clear: system descriptor) */
#define SEG_DPL (3U << 13)
#define SEG_P (1U << 15)
#define SEG_TYPE_CALL_GATE (0xcU << 8)
#define GATE_RESERVED 0xffU       /* parameter count and reserved bits of a gate */

#define DESCS_PER_PAGE (PAGE_SIZE / 8)
#define LDT_WINDOW_PAGES (LDT_MAX_ENTRIES / DESCS_PER_PAGE)
#define PFEC_rsvd (1U << 3)
#define SEL_TI 4U                 /* selector / error code: the LDT */
/* GDT and LDT frames as the window maps them: the CPU sets accessed bits. */
#define WINDOW_PTE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)

BUILD_BUG_ON(GDT_GUEST_ENTRIES != GDT_GUEST_FRAMES * DESCS_PER_PAGE);
BUILD_BUG_ON(LDT_MAX_ENTRIES * 8 != LDT_WINDOW_OFFSET);

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Guest-owned and canonical, as Xen's __addr_ok: below the hole, or above enso. */
static bool guest_addr_ok(uint64_t a)
{
    return a < (1UL << 47) || a >= HYPERVISOR_VIRT_END;
}

/* Where a call gate may lead: a guest GDT entry, the flat kernel code, or the LDT. */
static bool gate_target_ok(uint16_t sel)
{
    return (sel >> 3) < GDT_GUEST_ENTRIES || sel == FLAT_KERNEL_CS || (sel & SEL_TI);
}

bool pv_check_descriptor(uint64_t *desc)
{
    uint32_t lo = (uint32_t)*desc, hi = (uint32_t)(*desc >> 32);
    uint16_t target;

    if (!(hi & SEG_P))
        return true;
    hi |= SEG_DPL;
    if (hi & SEG_S)
        goto accept;
    if (!(hi & SEG_TYPE))
        return true;
    if ((hi & SEG_TYPE) != SEG_TYPE_CALL_GATE)
        return false;
    target = (uint16_t)(lo >> 16);
    if (!gate_target_ok(target))
        return false;
    hi &= ~SEG_DPL;
    lo = (lo & 0xffff) | (uint32_t)((target & ~3U) | 3U) << 16;
    if (hi & GATE_RESERVED)
        return false;
accept:
    *desc = (uint64_t)hi << 32 | lo;
    return true;
}

/*
 * Descriptors are rewritten in place as they pass, so a page that fails keeps the
 * rewrites of the entries before the bad one (as on Xen).
 */
int pv_validate_desc_page(struct page_info *pg)
{
    uint64_t *descs = page_to_virt(pg);

    for (unsigned int i = 0; i < DESCS_PER_PAGE; i++) {
        uint64_t d = READ_ONCE(descs[i]);
        if (!pv_check_descriptor(&d))
            return -EINVAL;
        descs[i] = d;
    }
    return 0;
}

static pgentry_t *gdt_slots(const struct vcpu *v)
{
    return v->arch.perdomain_l1;
}

static pgentry_t *ldt_slots(const struct vcpu *v)
{
    return v->arch.perdomain_l1 + LDT_WINDOW_OFFSET / PAGE_SIZE;
}

static struct page_info *slot_page(pgentry_t e)
{
    return mfn_to_page(_mfn(pte_paddr(e) >> PAGE_SHIFT));
}

/* Back to no GDT: every guest page of the window reads as zeroes again. */
static void release_gdt(struct vcpu *v)
{
    pgentry_t zero = gdt_window_zero_entry();

    v->arch.gdt_ents = 0;
    for (unsigned int i = 0; i < GDT_GUEST_FRAMES; i++) {
        pgentry_t e = gdt_slots(v)[i];
        gdt_slots(v)[i] = zero;
        if (pte_present(e) && e != zero)
            put_page_and_type(slot_page(e));
    }
}

/* The new frames are taken before the old ones go, so a frame may be in both. */
int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries)
{
    unsigned int n = (entries + DESCS_PER_PAGE - 1) / DESCS_PER_PAGE;

    if (entries > GDT_GUEST_ENTRIES)
        return -EINVAL;
    for (unsigned int i = 0; i < n; i++) {
        if (!mfn_valid(_mfn(frames[i])) ||
            get_page_and_type(mfn_to_page(_mfn(frames[i])), v->domain, PGT_seg_desc_page)) {
            while (i--)
                put_page_and_type(mfn_to_page(_mfn(frames[i])));
            return -EINVAL;
        }
    }
    release_gdt(v);
    for (unsigned int i = 0; i < n; i++)
        gdt_slots(v)[i] = pte_make(frames[i] << PAGE_SHIFT, WINDOW_PTE);
    v->arch.gdt_ents = entries;
    return 0;
}

/*
 * set_gdt(frame_list, entries): entries is an unsigned int in Xen's ABI (the upper
 * half of the register is dropped). No frame is read when there are no entries, so
 * any pointer goes then.
 */
long do_set_gdt(hc_arg_t frame_list, hc_arg_t entries_arg)
{
    unsigned int entries = (unsigned int)entries_arg;
    unsigned int n = (entries + DESCS_PER_PAGE - 1) / DESCS_PER_PAGE;
    uint64_t frames[GDT_GUEST_FRAMES];
    int rc;

    if (entries > GDT_GUEST_ENTRIES)
        return -EINVAL;
    if (n && copy_from_guest(frames, frame_list, n * sizeof(frames[0])))
        return -EFAULT;
    rc = pv_set_gdt(current, frames, entries);
    if (!rc)
        write_cr3(read_cr3()); /* the window's old translations */
    return rc;
}

/*
 * update_descriptor(maddr, desc): one checked descriptor written into a frame of ours.
 * A descriptor page is written under its own type (it may be a GDT or LDT in use);
 * any other frame must be able to take the writable type, so a page table cannot be
 * written this way but an ordinary page, mapped writable or not, can.
 */
long do_update_descriptor(hc_arg_t maddr, hc_arg_t desc)
{
    struct domain *d = current->domain;
    uint64_t val = desc;
    mfn_t mfn = _mfn(maddr >> PAGE_SHIFT);
    struct page_info *pg;
    unsigned long type;
    long rc = -EINVAL;

    if ((maddr & 7) || !pv_check_descriptor(&val))
        return -EINVAL;
    if (!mfn_valid(mfn))
        return -EINVAL;
    pg = mfn_to_page(mfn);
    if (!get_page(pg, d))
        return -EINVAL;
    type = __atomic_load_n(&pg->type_info, __ATOMIC_ACQUIRE) & PGT_type_mask;
    if (type != PGT_seg_desc_page)
        type = PGT_writable_page;
    if (!get_page_type(pg, type)) {
        uint64_t *slot = (uint64_t *)((char *)page_to_virt(pg) + (maddr & (PAGE_SIZE - 1)));
        __atomic_store_n(slot, val, __ATOMIC_RELEASE);
        put_page_type(pg);
        rc = 0;
    }
    put_page(pg);
    return rc;
}

bool pv_release_ldt_pages(struct vcpu *v)
{
    bool any = false;

    for (unsigned int i = 0; i < LDT_WINDOW_PAGES; i++) {
        pgentry_t e = ldt_slots(v)[i];
        if (!pte_present(e))
            continue;
        ldt_slots(v)[i] = 0;
        put_page_and_type(slot_page(e));
        any = true;
    }
    return any;
}

void pv_load_ldt(const struct vcpu *v)
{
    load_ldt(v->arch.gdt_va + LDT_WINDOW_OFFSET, v->arch.ldt_ents);
}

/*
 * The address must be page aligned and the guest's (only checked with entries); an
 * unchanged LDT keeps its mapped pages.
 */
int pv_set_ldt(struct vcpu *v, uint64_t base, unsigned int ents)
{
    if (ents > LDT_MAX_ENTRIES ||
        (ents && ((base & (PAGE_SIZE - 1)) || !guest_addr_ok(base))))
        return -EINVAL;
    if (!ents)
        base = 0;
    if (v->arch.ldt_ents == ents && v->arch.ldt_base == base)
        return 0;
    if (pv_release_ldt_pages(v))
        write_cr3(read_cr3());
    v->arch.ldt_base = base;
    v->arch.ldt_ents = ents;
    pv_load_ldt(v);
    return 0;
}

/* Maps the LDT page at byte offset of the window from the guest's page tables. */
static bool map_ldt_page(struct vcpu *v, unsigned int offset)
{
    uint64_t linear = v->arch.ldt_base + offset;
    pgentry_t *slot = &ldt_slots(v)[offset >> PAGE_SHIFT];
    mfn_t mfn;
    pgentry_t e;

    if ((offset >> 3) >= v->arch.ldt_ents || !guest_addr_ok(linear))
        return false;
    if (pte_present(*slot)) {
        /* Mapped already: a stale translation on this CPU. */
        invlpg((void *)(v->arch.gdt_va + LDT_WINDOW_OFFSET + (offset & PAGE_MASK)));
        return true;
    }
    e = pv_guest_l1e(v, linear);
    if (!pte_present(e))
        return false;
    mfn = _mfn(pte_paddr(e) >> PAGE_SHIFT);
    if (!mfn_valid(mfn) || get_page_and_type(mfn_to_page(mfn), v->domain, PGT_seg_desc_page))
        return false;
    *slot = pte_make(pte_paddr(e), WINDOW_PTE);
    return true;
}

/*
 * Only the CPU's own descriptor loads (supervisor accesses: no user bit) count; a
 * guest touching the window itself gets its #PF as for any enso address. When the
 * page cannot be mapped, the guest sees the fault at the LDT's linear address, or a
 * #GP naming the selector if that address is not canonical.
 */
bool pv_ldt_page_fault(struct cpu_user_regs *regs, uint64_t cr2)
{
    struct vcpu *v = current;
    uint64_t window = v->arch.gdt_va + LDT_WINDOW_OFFSET;
    unsigned int offset;
    uint64_t linear;
    bool mapped;

    if (cr2 < window || cr2 - window >= LDT_MAX_ENTRIES * 8UL)
        return false;
    if (regs->error_code & (PFEC_user | PFEC_rsvd))
        return false;
    offset = (unsigned int)(cr2 - window);
    /* Interrupts are on (traps.c): the frame may change type, which flushes TLBs. */
    mapped = map_ldt_page(v, offset);
    if (mapped)
        return true;
    linear = v->arch.ldt_base + offset;
    if (!is_canonical(linear))
        pv_inject_exception(regs, 13, (offset & ~3U) | SEL_TI);
    else
        pv_inject_page_fault(regs, linear, (uint32_t)regs->error_code);
    return true;
}

bool pv_ldt_selector_mapped(const struct vcpu *v, uint16_t sel)
{
    return (sel & SEL_TI) && (sel >> 3) < v->arch.ldt_ents &&
           pte_present(ldt_slots(v)[(sel >> 3) / DESCS_PER_PAGE]);
}

void pv_vcpu_release_descriptors(struct vcpu *v)
{
    if (!v->arch.perdomain_l1)
        return;
    release_gdt(v);
    pv_release_ldt_pages(v);
    v->arch.ldt_ents = 0;
    v->arch.ldt_base = 0;
}
