/*
 * Page types and references for PV guest page tables; see <asm/pv_mm.h> for the model.
 *
 * The rules a page-table entry must satisfy (Xen 4.17's, for 64-bit PV):
 *  - it maps a frame the domain owns (a general reference is taken);
 *  - an L1 entry with RW takes a writable type reference, so no frame that is a page
 *    table or descriptor table can be mapped writable, and vice versa;
 *  - an L2/L3/L4 entry takes an L1/L2/L3 type reference on its target: tables nest
 *    only one way, and a frame cannot be two levels at once;
 *  - flags: present, RW, user, accessed, dirty, the available bits and NX anywhere;
 *    global, and cache attributes for the privileged domain, in L1 only; no superpages;
 *  - L4 slots 256-271 belong to enso and always hold enso's entries.
 * Entries the guest writes get the user bit (its kernel runs in ring 3), and kernel
 * mappings are marked with an available bit so the guest can tell them apart.
 */
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <asm/bootinfo.h>
#include <asm/mm.h>
#include <asm/processor.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>
#include <asm/tlb_clock.h>

#define ROOT_SLOT_FIRST_ENSO 256
#define ROOT_SLOT_LAST_ENSO 271
#define ROOT_SLOT_PERDOMAIN 260

#define _PAGE_GUEST_KERNEL (1UL << 52)    /* Xen's marker for a guest-kernel mapping */
#define PTE_AVAIL (7UL << 9)
#define PTE_AVAIL_HIGH (0x7ffUL << 52)
#define PTE_FLAGS_MASK (~PADDR_MASK)
#define PTE_BASE_ALLOWED (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | \
                          _PAGE_DIRTY | PTE_AVAIL | PTE_AVAIL_HIGH | _PAGE_NX)
#define PTE_CACHE_ATTRS (_PAGE_PWT | _PAGE_PCD | (1UL << 7))

static uint64_t allowed_flags(unsigned int level, const struct domain *d)
{
    if (level > 1)
        return PTE_BASE_ALLOWED;
    return PTE_BASE_ALLOWED | _PAGE_GLOBAL | (d->is_privileged ? PTE_CACHE_ATTRS : 0);
}

static bool is_guest_l4_slot(unsigned int i)
{
    return i < ROOT_SLOT_FIRST_ENSO || i > ROOT_SLOT_LAST_ENSO;
}

bool get_page(struct page_info *pg, struct domain *d)
{
    unsigned long x = __atomic_load_n(&pg->count_info, __ATOMIC_RELAXED);

    do {
        if (pg->u.owner != d || (x & PGC_free) || !(x & PGC_count_mask) ||
            (x & PGC_count_mask) == PGC_count_mask)
            return false;
    } while (!__atomic_compare_exchange_n(&pg->count_info, &x, x + 1, false,
                                          __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
    return true;
}

void put_page(struct page_info *pg)
{
    unsigned long old = __atomic_fetch_sub(&pg->count_info, 1, __ATOMIC_ACQ_REL);

    BUG_ON(!(old & PGC_count_mask));
    if ((old & (PGC_count_mask | PGC_xenheap)) == 1)
        free_domheap_pages(pg, 0); /* the last reference, the allocation one already gone */
}

/*
 * Every CPU whose TLB may hold d's translations: those running one of its vCPUs, and
 * those that ran one last (idle since, or about to run one again). The fence orders the
 * caller's page-table change before the look at the marks, which each CPU sets before
 * loading the domain's page tables (arch/x86/domain.c).
 */
void flush_domain_tlbs(struct domain *d)
{
    cpumask_t mask;
    unsigned int cpu;

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    cpumask_clear(&mask);
    for_each_cpu(cpu, &cpu_online_map)
        if (cpu != smp_processor_id() && cpu_tlb_may_hold(cpu, d))
            cpumask_set_cpu(cpu, &mask);
    flush_tlb_local_noted(); /* guests' global entries too */
    if (!cpumask_empty(&mask))
        flush_tlb_mask(&mask);
}

/*
 * The same, but only for CPUs that have not loaded CR3 since the clock showed tick
 * (asm/tlb_clock.h): enough where what must go is paging-structure caches.
 */
static void flush_domain_tlbs_since(struct domain *d, uint64_t tick)
{
    cpumask_t mask;
    unsigned int cpu;

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    cpumask_clear(&mask);
    for_each_cpu(cpu, &cpu_online_map)
        if (cpu != smp_processor_id() && cpu_tlb_may_hold(cpu, d) &&
            !cpu_reloaded_cr3_since(cpu, tick))
            cpumask_set_cpu(cpu, &mask);
    if (!cpu_reloaded_cr3_since(smp_processor_id(), tick))
        flush_tlb_local_noted();
    if (!cpumask_empty(&mask))
        flush_tlb_mask(&mask);
}

/* A table of d's lost its last use: the tick a later writable use compares against. */
static void note_table_dropped(struct domain *d)
{
    uint64_t tick = tlb_clock_tick(), seen = __atomic_load_n(&d->arch.tables_dropped_at,
                                                             __ATOMIC_RELAXED);

    /* Keep the latest tick: another CPU may store an earlier one after ours. */
    while (seen < tick && !__atomic_compare_exchange_n(&d->arch.tables_dropped_at, &seen,
                                                        tick, false, __ATOMIC_SEQ_CST,
                                                        __ATOMIC_RELAXED))
        ;
}

static int validate_table(struct page_info *pg, unsigned int level);
static void devalidate_table(struct page_info *pg, unsigned int level);

static bool is_pt_type(unsigned long t)
{
    return t >= PGT_l1_page_table && t <= PGT_l4_page_table;
}

int get_page_type(struct page_info *pg, unsigned long type)
{
    unsigned long x, nx;

    for (;;) {
        x = __atomic_load_n(&pg->type_info, __ATOMIC_ACQUIRE);
        if ((x & PGT_count_mask) == 0) {
            /* Unused: the frame may take the new type; validated once it checks out. */
            nx = type | 1;
            if (!__atomic_compare_exchange_n(&pg->type_info, &x, nx, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
                continue;
            if ((x & PGT_type_mask) != type && type != PGT_writable_page)
                /* A CPU may still hold a writable translation from the old type. */
                flush_domain_tlbs(pg->u.owner);
            else if ((x & PGT_type_mask) != type && is_pt_type(x & PGT_type_mask))
                /* ... or walk through the former table (see tlb_clock.c). */
                flush_domain_tlbs_since(pg->u.owner,
                                        __atomic_load_n(&pg->u.owner->arch.tables_dropped_at,
                                                        __ATOMIC_SEQ_CST));
            if (is_pt_type(type) || type == PGT_seg_desc_page) {
                int rc = type == PGT_seg_desc_page
                             ? pv_validate_desc_page(pg)
                             : validate_table(pg, (unsigned int)(type >> PGT_type_shift));
                if (rc) {
                    __atomic_store_n(&pg->type_info, type, __ATOMIC_RELEASE);
                    return rc;
                }
            }
            __atomic_fetch_or(&pg->type_info, PGT_validated, __ATOMIC_RELEASE);
            return 0;
        }
        if ((x & PGT_type_mask) != type)
            return -EINVAL;
        if (!(x & PGT_validated)) {
            /* Another CPU is validating it (or has just failed to): wait and look again. */
            cpu_relax();
            continue;
        }
        if ((x & PGT_count_mask) == PGT_count_mask)
            return -EINVAL;
        nx = x + 1;
        if (__atomic_compare_exchange_n(&pg->type_info, &x, nx, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return 0;
    }
}

int get_page_type_in_use(struct page_info *pg, unsigned long type)
{
    unsigned long x = __atomic_load_n(&pg->type_info, __ATOMIC_ACQUIRE);

    do {
        if ((x & (PGT_type_mask | PGT_validated)) != (type | PGT_validated) ||
            !(x & PGT_count_mask) || (x & PGT_count_mask) == PGT_count_mask)
            return -EINVAL;
    } while (!__atomic_compare_exchange_n(&pg->type_info, &x, x + 1, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return 0;
}

void put_page_type(struct page_info *pg)
{
    unsigned long x = __atomic_load_n(&pg->type_info, __ATOMIC_ACQUIRE);

    for (;;) {
        unsigned long t = x & PGT_type_mask;

        BUG_ON(!(x & PGT_count_mask));
        if ((x & PGT_count_mask) == 1 && is_pt_type(t) && (x & PGT_validated)) {
            /* Last user of a table: release what its entries hold, then the type. */
            if (!__atomic_compare_exchange_n(&pg->type_info, &x, x & ~PGT_validated, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue;
            devalidate_table(pg, (unsigned int)(t >> PGT_type_shift));
            note_table_dropped(pg->u.owner);
            __atomic_store_n(&pg->type_info, t, __ATOMIC_RELEASE);
            return;
        }
        if (__atomic_compare_exchange_n(&pg->type_info, &x, x - 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return;
    }
}

int get_page_and_type(struct page_info *pg, struct domain *d, unsigned long type)
{
    int rc;

    if (!get_page(pg, d))
        return -EINVAL;
    rc = get_page_type(pg, type);
    if (rc)
        put_page(pg);
    return rc;
}

void put_page_and_type(struct page_info *pg)
{
    put_page_type(pg);
    put_page(pg);
}

/*
 * The references an entry of d's holds (its target at level-1, or a mapped frame for
 * L1); an L1 entry maps a frame of pg_owner (d itself unless a privileged caller named
 * another domain).
 */
/*
 * Frames that are not RAM, and the first MiB, are I/O memory to Xen (its dom_io owns
 * them). No domain is given access to I/O memory yet, so mapping one is -EPERM, where
 * a RAM frame that is not the owner's is -EBUSY.
 */
static bool is_io_frame(mfn_t mfn)
{
    uint64_t a = mfn_x(mfn) << PAGE_SHIFT;

    if (mfn_x(mfn) < 0x100)
        return true;
    for (unsigned int i = 0; i < boot_info.memmap.nr; i++) {
        const struct memmap_entry *e = &boot_info.memmap.map[i];
        if (e->type == MEM_RAM && a >= e->addr && a - e->addr < e->size)
            return false;
    }
    return true;
}

static int get_entry_refs_as(pgentry_t e, unsigned int level, struct domain *d,
                             struct domain *pg_owner)
{
    mfn_t mfn = _mfn(pte_paddr(e) >> PAGE_SHIFT);
    struct page_info *pg;

    if (!pte_present(e))
        return 0;
    if ((e & PTE_FLAGS_MASK) & ~allowed_flags(level, d))
        return -EINVAL;
    if (!mfn_valid(mfn) && level > 1)
        return -EINVAL;
    /*
     * Not RAM: I/O memory to Xen, refused with -EPERM unless the domain may map it
     * (enso grants no I/O memory yet), -EINVAL for the all-ones INVALID_MFN.
     */
    if (!mfn_valid(mfn))
        return mfn_x(mfn) == PADDR_MASK >> PAGE_SHIFT ? -EINVAL : -EPERM;
    pg = mfn_to_page(mfn);
    if (level > 1)
        return get_page_and_type(pg, d, pgt_of_level(level - 1));
    if (!get_page(pg, pg_owner))
        /* not the owner's (free, enso's, another's, I/O memory): as Xen */
        return is_io_frame(mfn) ? -EPERM : -EBUSY;
    if ((e & _PAGE_RW) && get_page_type(pg, PGT_writable_page)) {
        put_page(pg);
        return -EBUSY; /* a table or descriptor page: Xen's answer for a type clash */
    }
    return 0;
}

static int get_entry_refs(pgentry_t e, unsigned int level, struct domain *d)
{
    return get_entry_refs_as(e, level, d, d);
}

static void put_entry_refs(pgentry_t e, unsigned int level)
{
    struct page_info *pg;

    if (!pte_present(e))
        return;
    pg = mfn_to_page(_mfn(pte_paddr(e) >> PAGE_SHIFT));
    if (level > 1 || (e & _PAGE_RW))
        put_page_type(pg);
    put_page(pg);
}

/* What the hardware needs of a guest entry: user-accessible, kernel pages marked. */
static pgentry_t adjust_entry(pgentry_t e, unsigned int level)
{
    if (!pte_present(e))
        return e;
    if (level == 1 && !(e & _PAGE_USER))
        return e | _PAGE_USER | _PAGE_GUEST_KERNEL;
    if (level == 4)
        return e | _PAGE_USER | _PAGE_ACCESSED; /* Xen: as if the CPU had walked it */
    return e | _PAGE_USER;
}

static void write_enso_slots(pgentry_t *t, const struct domain *d)
{
    for (unsigned int i = ROOT_SLOT_FIRST_ENSO; i <= ROOT_SLOT_LAST_ENSO; i++)
        t[i] = idle_l4[i];
    t[ROOT_SLOT_PERDOMAIN] = pte_make(virt_to_maddr(d->arch.perdomain_l3), PTE_TABLE);
}

static int validate_table(struct page_info *pg, unsigned int level)
{
    struct domain *d = pg->u.owner;
    pgentry_t *t = page_to_virt(pg);

    for (unsigned int i = 0; i < PAGE_TABLE_ENTRIES; i++) {
        int rc;
        if (level == 4 && !is_guest_l4_slot(i))
            continue;
        rc = get_entry_refs(t[i], level, d);
        if (rc) {
            while (i--)
                if (level != 4 || is_guest_l4_slot(i))
                    put_entry_refs(t[i], level);
            return rc;
        }
        t[i] = adjust_entry(t[i], level);
    }
    if (level == 4)
        write_enso_slots(t, d);
    return 0;
}

static void devalidate_table(struct page_info *pg, unsigned int level)
{
    pgentry_t *t = page_to_virt(pg);

    for (unsigned int i = 0; i < PAGE_TABLE_ENTRIES; i++)
        if (level != 4 || is_guest_l4_slot(i))
            put_entry_refs(t[i], level);
}

int mod_pt_entry(pgentry_t *slot, pgentry_t nval, unsigned int level, struct domain *d,
                 bool preserve_ad)
{
    return mod_pt_entry_as(slot, nval, level, d, d, preserve_ad);
}

int mod_pt_entry_as(pgentry_t *slot, pgentry_t nval, unsigned int level, struct domain *d,
                    struct domain *pg_owner, bool preserve_ad)
{
    pgentry_t old = __atomic_load_n(slot, __ATOMIC_RELAXED);
    unsigned int index = (unsigned int)(((uintptr_t)slot & (PAGE_SIZE - 1)) / sizeof(*slot));
    int rc;

    if (level == 4 && !is_guest_l4_slot(index))
        return -EINVAL;
    if (level > 1 && pg_owner != d)
        return -EINVAL; /* only leaf entries may name another domain's frames */
    rc = get_entry_refs_as(nval, level, d, pg_owner);
    if (rc)
        return rc;
    nval = adjust_entry(nval, level);
    /*
     * The CPU may set A/D in the old entry meanwhile: exchange, keep them if asked. Xen
     * ORs the old A/D into whatever the new value is (another frame, or not present).
     */
    for (;;) {
        pgentry_t want = nval;
        if (preserve_ad)
            want |= old & (_PAGE_ACCESSED | _PAGE_DIRTY);
        if (__atomic_compare_exchange_n(slot, &old, want, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            break;
    }
    put_entry_refs(old, level);
    return 0;
}

int cmpxchg_l1_entry(pgentry_t *slot, pgentry_t expect, pgentry_t nval, struct domain *d)
{
    int rc = get_entry_refs(nval, 1, d);

    if (rc)
        return rc;
    nval = adjust_entry(nval, 1);
    if (!__atomic_compare_exchange_n(slot, &expect, nval, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED)) {
        put_entry_refs(nval, 1);
        return -EAGAIN;
    }
    put_entry_refs(expect, 1);
    return 0;
}
