/*
 * The writable-page-table assist (VMASST_TYPE_writable_pagetables), as Xen 4.17 has it
 * for 64-bit PV guests. A guest kernel's L1 tables are mapped read-only in its own
 * address space (validation insists), so a plain store to a PTE faults. With the assist
 * enabled, enso decodes the faulting instruction, validates the entry it would write
 * like an mmu_update of that entry, writes it and resumes the guest after the
 * instruction. Whatever is not emulated is the guest's #PF, unchanged.
 *
 * Xen's conditions, kept here: a write fault on a present page (no reserved-bit or
 * fetch fault) from guest kernel mode, with the assist enabled or in domain 0 (Xen 4.17
 * sends every such fault of the hardware domain through the same emulation on its way
 * to the read-only-MMIO check, assist or not); the kernel-mode
 * L1 entry that maps the address is present and read-only and names an L1 table of the
 * domain that is in use (never an L2-L4, nor a frame of another type); the store is
 * naturally aligned and lands on the entry that faulted. Sub-word stores take the rest
 * of the entry from its current value. A value validation refuses is the guest's #PF.
 * Locked read-modify-writes (and XCHG, CMPXCHG*) update the entry only if it still
 * holds what the instruction read; if it changed meanwhile, the guest simply runs the
 * instruction again. An unlocked read-modify-write that changes nothing stores nothing.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/sched.h>
#include <asm/mm.h>
#include <asm/processor.h>
#include <asm/ptwr_decode.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <public/xen.h>

#define PFEC_reserved (1U << 3)

/* Up to PTWR_MAX_INSN bytes at rip: fewer if the next page cannot be read. (The
 * guest's CR2 was saved at entry, so a copy that faults here disturbs nothing.) */
static unsigned int fetch_insn(uint64_t rip, uint8_t *buf)
{
    unsigned int n = (unsigned int)(PAGE_SIZE - (rip & (PAGE_SIZE - 1)));

    if (n > PTWR_MAX_INSN)
        n = PTWR_MAX_INSN;
    if (copy_from_guest(buf, rip, n))
        return 0;
    if (n < PTWR_MAX_INSN && !copy_from_guest(buf + n, rip + n, PTWR_MAX_INSN - n))
        n = PTWR_MAX_INSN;
    return n;
}

static bool is_atomic(const struct ptwr_insn *in)
{
    return in->lock || in->op == PTWR_XCHG || in->op == PTWR_CMPXCHG ||
           in->op == PTWR_CMPXCHG8B;
}

/* The instruction at rip against the L1 table pg (a type reference held). */
static bool emulate(struct cpu_user_regs *regs, uint64_t cr2, struct page_info *pg,
                    struct domain *d)
{
    uint8_t bytes[PTWR_MAX_INSN];
    unsigned int n = fetch_insn(regs->rip, bytes), off;
    struct ptwr_insn in;
    struct cpu_user_regs next;
    pgentry_t *slot, cur;
    uint64_t old[2], store[2];

    /*
     * Segment bases count as 0: Xen 4.17's emulation ignores them here, so an FS/GS
     * store with a non-zero base misses CR2's entry below and is the guest's #PF.
     */
    if (!n || ptwr_decode(&in, bytes, n, regs, 0, 0))
        return false;
    if ((in.addr & (in.size - 1)) || (in.addr & ~7UL) != (cr2 & ~7UL))
        return false;

    slot = (pgentry_t *)page_to_virt(pg) + ((in.addr & (PAGE_SIZE - 1)) >> 3);
    cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    off = (unsigned int)(in.addr & 7);
    old[0] = ptwr_field(cur, off, in.size);
    old[1] = in.size > 8 ? __atomic_load_n(slot + 1, __ATOMIC_ACQUIRE) : 0;
    next = *regs;
    if (ptwr_execute(&in, old, &next, store)) {
        pgentry_t nval;
        int rc;

        if (in.size > 8)    /* a 16-byte store to a page table: Xen refuses it too */
            return false;
        nval = ptwr_merge(cur, off, in.size, store[0]);
        if (is_atomic(&in)) {
            rc = cmpxchg_l1_entry(slot, cur, nval, d);
            if (rc == -EAGAIN)
                return true;    /* changed under us: the guest runs it again */
        } else {
            rc = mod_pt_entry(slot, nval, 1, d, false);
        }
        if (rc)
            return false;
    }
    next.rip += in.len;
    *regs = next;
    /* Single-stepping: the #DB the instruction would have raised had it not faulted. */
    if (regs->rflags & X86_EFLAGS_TF)
        pv_inject_exception(regs, 1, -1);
    return true;
}

bool pv_ptwr_fault(struct cpu_user_regs *regs, uint64_t cr2, uint32_t ec)
{
    struct vcpu *v = current;
    struct domain *d = v->domain;
    struct page_info *pg;
    pgentry_t l1e;
    bool handled;

    if ((ec & (PFEC_present | PFEC_write | PFEC_reserved | PFEC_insn)) !=
            (PFEC_present | PFEC_write) ||
        !v->arch.kernel_mode ||
        (!(READ_ONCE(d->vm_assist) & (1UL << VMASST_TYPE_writable_pagetables)) &&
         d->domain_id != 0))
        return false;
    l1e = pv_guest_l1e(v, cr2);
    if ((l1e & (_PAGE_PRESENT | _PAGE_RW)) != _PAGE_PRESENT ||
        !mfn_valid(_mfn(pte_paddr(l1e) >> PAGE_SHIFT)))
        return false;
    pg = mfn_to_page(_mfn(pte_paddr(l1e) >> PAGE_SHIFT));
    /* An L1 table in use (validated, referenced); hold its type while we write. */
    if (pv_get_l1_table(pg, d))
        return false;
    handled = emulate(regs, cr2, pg, d);
    put_page_and_type(pg);
    return handled;
}
