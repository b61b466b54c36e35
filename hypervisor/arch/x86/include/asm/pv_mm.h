/*
 * Guest-managed page tables (arch/x86/pv/page_types.c, mm_ops.c).
 *
 * Every frame a PV domain owns carries, in struct page_info, a general reference count
 * (count_info: each mapping or table entry that names the frame, plus one while the
 * domain holds it at all) and a type with its own count (type_info): writable, L1-L4
 * page table or segment descriptors. A frame has one type at a time and can change it
 * only when its type count is zero, so a frame is never at once a page table and
 * writable through some mapping. Taking the first reference of a page-table type
 * validates the frame's contents (every entry maps something the domain may map, with
 * allowed flags, and takes references of its own); dropping the last one releases
 * them. Pinning holds one type reference without a mapping or CR3.
 */
#ifndef ASM_PV_MM_H
#define ASM_PV_MM_H

#include <enso/mm.h>
#include <asm/page.h>

struct domain;
struct vcpu;

int get_page_type(struct page_info *pg, unsigned long type);
void put_page_type(struct page_info *pg);
/* One more reference of a type the frame has, validated and in use; never a retype. */
int get_page_type_in_use(struct page_info *pg, unsigned long type);
int get_page_and_type(struct page_info *pg, struct domain *d, unsigned long type);
void put_page_and_type(struct page_info *pg);

/* Update one entry of an in-use page table of `level`, validating the new value. */
int mod_pt_entry(pgentry_t *slot, pgentry_t nval, unsigned int level, struct domain *d,
                 bool preserve_ad);
/* The same with an L1 entry mapping a frame of pg_owner (a privileged caller's
 * foreign mapping); higher levels must have pg_owner == d. */
int mod_pt_entry_as(pgentry_t *slot, pgentry_t nval, unsigned int level, struct domain *d,
                    struct domain *pg_owner, bool preserve_ad);

/*
 * The same for an in-use L1 entry, but only if it still holds expect (a locked write of
 * the writable-page-table assist): 0, -EAGAIN if it has changed (nothing done), or the
 * validation error.
 */
int cmpxchg_l1_entry(pgentry_t *slot, pgentry_t expect, pgentry_t nval, struct domain *d);

/*
 * The writable-page-table assist (pv/ptwr.c): a guest kernel's write fault on one of its
 * own L1 tables, emulated as the validated update it asks for. True if handled.
 */
struct cpu_user_regs;
bool pv_ptwr_fault(struct cpu_user_regs *regs, uint64_t cr2, uint32_t ec);

/*
 * Walks of a vCPU's kernel page tables (pv/guest_walk.c) that read only frames its
 * domain owns: the L1 table mapping va (INVALID_MFN if none), or its entry (0 if
 * none). Nothing is held; a writer makes the L1 its own with pv_get_l1_table (a
 * general and an L1 type reference if pg is still a validated L1 table of d: 0, else
 * -EINVAL) and drops it with put_page_and_type.
 */
mfn_t pv_guest_l1_table(const struct vcpu *v, uint64_t va);
pgentry_t pv_guest_l1e(const struct vcpu *v, uint64_t va);
int pv_get_l1_table(struct page_info *pg, struct domain *d);

/* MMUEXT_NEW_BASEPTR / NEW_USER_BASEPTR (mfn 0: no user tables); also mov to %cr3. */
int pv_new_baseptr(struct vcpu *v, unsigned long mfn, bool user);


/* The page-table type of a given level (1-4). */
static inline unsigned long pgt_of_level(unsigned int level)
{
    return PGT_l1_page_table * level;
}

#endif
