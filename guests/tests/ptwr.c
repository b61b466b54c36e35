/*
 * The writable-page-table assist (VMASST_TYPE_writable_pagetables): a kernel's plain
 * stores to its own L1 tables, which are mapped read-only, emulated by the hypervisor
 * as validated updates.
 *
 * The test rewrites the L1 entry of scratch_page through the bootstrap mapping of its
 * L1 table (read-only, like every page-table frame of the bootstrap region) with the
 * store instructions a kernel uses, and checks both the entry and what scratch_page then
 * reads: page_a, page_b or its own page, each with a magic value. Every test starts from
 * the original entry (restored with update_va_mapping). Entries written keep the
 * original flags (with _PAGE_USER and Xen's kernel-mapping bit 52 set), so neither
 * hypervisor adjusts them and the values read back are exactly those written.
 *
 * A probe loads rsi, rax, rdx, rbx, rcx and rdi (the address) from a struct pw, runs one
 * instruction and stores rax, rdx, rsi and rflags back.
 */
#include <guest/test.h>

#define VMASST_WPT VMASST_TYPE_writable_pagetables
#define PADDR 0x000ffffffffff000UL
#define NOAD(x) ((x) & ~(_PAGE_ACCESSED | _PAGE_DIRTY))
#define FL_CF 0x001UL
#define FL_ZF 0x040UL
#define FL_SF 0x080UL
#define FL_OF 0x800UL

#define MAGIC_S 0x5555555555555555UL
#define MAGIC_A 0xaaaaaaaaaaaaaaaaUL
#define MAGIC_B 0xbbbbbbbbbbbbbbbbUL

#define MSR_GS_BASE 0xc0000101

struct pw {
    uint64_t addr, val, rax, rdx, rbx, rcx;     /* in: rdi, rsi, rax, rdx, rbx, rcx */
    uint64_t rax_out, rdx_out, rsi_out, flags_out;
};

#define PW_PROBE_PRE(name, pre, insn)                                                  \
    PROBE(name, "push %rbx\n\tpush %rdi\n\t"                                           \
                "mov 8(%rdi), %rsi\n\tmov 16(%rdi), %rax\n\tmov 24(%rdi), %rdx\n\t"    \
                "mov 32(%rdi), %rbx\n\tmov 40(%rdi), %rcx\n\tmov (%rdi), %rdi\n\t"     \
                pre INSN(name) insn "\n\t"                                             \
                END(name) "pushfq\n\tmov 8(%rsp), %rdi\n\tpopq 72(%rdi)\n\t"           \
                "mov %rax, 48(%rdi)\n\tmov %rdx, 56(%rdi)\n\tmov %rsi, 64(%rdi)\n\t"   \
                "pop %rdi\n\tpop %rbx")
#define PW_PROBE(name, insn) PW_PROBE_PRE(name, "", insn)

PW_PROBE(mov64, "mov %rsi, (%rdi)");
PW_PROBE(mov32, "movl %esi, (%rdi)");
PW_PROBE(mov16, "movw %si, (%rdi)");
PW_PROBE(movb_zero, "movb $0, (%rdi)");
PW_PROBE(movq_zero, "movq $0, (%rdi)");
PW_PROBE(xchg, "xchg %rsi, (%rdi)");
PW_PROBE(cmpxchg, "lock cmpxchg %rsi, (%rdi)");
PW_PROBE(cmpxchg8b, "lock cmpxchg8b (%rdi)");
PW_PROBE(cmpxchg16b, "lock cmpxchg16b (%rdi)");
PW_PROBE(btr_rw, "lock btrq $1, (%rdi)");
PW_PROBE(bts_rw, "lock btsq $1, (%rdi)");
PW_PROBE(btr_reg, "lock btrq %rcx, (%rdi)");
PW_PROBE(and_rw, "andq $-3, (%rdi)");
PW_PROBE(or_rw, "lock orq $2, (%rdi)");
PW_PROBE(add, "add %rsi, (%rdi)");
PW_PROBE(sub, "lock sub %rsi, (%rdi)");
PW_PROBE(sib, "mov %rsi, 8(%rdi,%rcx,8)");
PW_PROBE(gs_mov, "mov %rsi, %gs:(%rdi)");
PW_PROBE_PRE(single_step, "pushfq\n\torq $0x100, (%rsp)\n\tpopfq\n\t", "mov %rsi, (%rdi)");

static bool ready;
static uint64_t *slot;                  /* scratch_page's L1 entry (read-only mapping) */
static uint64_t *l2_slot, *l3_slot, *l4_slot;
static unsigned int slot_index;
static uint64_t orig;                   /* the entry as the builder made it */
static uint64_t l1_mfn, mfn_a, mfn_b;
static char page_a[4096] __aligned(4096), page_b[4096] __aligned(4096);
/* Code written at run time (a RIP-relative store to the entry). */
static uint8_t code_buf[64] __aligned(64);

#define TARGET ((volatile uint64_t *)scratch_page)

static uint64_t va_mfn(const void *va)
{
    return pfn_to_mfn(((uint64_t)va - GUEST_VIRT_BASE) >> PAGE_SHIFT);
}

static uint64_t cur(void)
{
    return *(volatile uint64_t *)slot;
}

/* The original entry with another frame. */
static uint64_t pte_to(uint64_t mfn)
{
    return (orig & ~PADDR) | (mfn << PAGE_SHIFT);
}

/* The bootstrap table an entry points to (read-only mapping), or NULL. */
static uint64_t *boot_table(uint64_t e)
{
    uint64_t mfn = PTE_MFN(e), pfn = M2P[mfn];
    uint64_t va = GUEST_VIRT_BASE + (pfn << PAGE_SHIFT);
    uint64_t lo = start_info->pt_base;

    if (!(e & _PAGE_PRESENT) || pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != mfn ||
        va < lo || va >= lo + start_info->nr_pt_frames * PAGE_SIZE)
        return NULL;
    return (uint64_t *)va;
}

static long invlpg(uint64_t va)
{
    struct mmuext_op op = { .cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };

    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* What scratch_page reads now (after dropping any stale translation). */
static uint64_t target_read(void)
{
    invlpg((uint64_t)scratch_page);
    return TARGET[0];
}

static long restore(void)
{
    return HYPERVISOR_update_va_mapping((ulong)scratch_page, orig, UVMF_INVLPG);
}

static void do_read(void *p)
{
    (void)*(volatile uint64_t *)p;
}

static void do_write(void *p)
{
    *(volatile uint64_t *)p = *(volatile uint64_t *)p;
}

/* Every test: set up, and the original entry back in place. */
#define BEGIN()                                                                        \
    do {                                                                               \
        if (!ready)                                                                    \
            SKIP("setup failed");                                                      \
        if (NOAD(cur()) != NOAD(orig))                                                 \
            CHECK_EQ(restore(), 0);                                                    \
    } while (0)

/* The store was the guest's #PF (error: present, write; kernel mode) at the probe. */
#define CHECK_REFUSED(trapped, rec, name, addr)                                        \
    do {                                                                               \
        CHECK_TRAP(trapped, rec, 14);                                                  \
        CHECK_EQ((rec).error, 3);                                                      \
        CHECK_EQ((rec).cr2, (uint64_t)(addr));                                         \
        CHECK(AT_INSN(rec, name));                                                     \
    } while (0)

TEST(setup)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    uint64_t va = (uint64_t)scratch_page, *l3, *l2, *l1;

    *(volatile uint64_t *)page_a = MAGIC_A;
    *(volatile uint64_t *)page_b = MAGIC_B;
    TARGET[0] = MAGIC_S;
    l4_slot = (uint64_t *)&l4[(va >> 39) & 511];
    l3 = boot_table(*l4_slot);
    CHECK(l3);
    l3_slot = &l3[(va >> 30) & 511];
    l2 = boot_table(*l3_slot);
    CHECK(l2);
    l2_slot = &l2[(va >> 21) & 511];
    l1 = boot_table(*l2_slot);
    CHECK(l1);
    l1_mfn = PTE_MFN(*l2_slot);
    slot_index = (va >> 12) & 511;
    slot = &l1[slot_index];
    orig = *slot;
    mfn_a = va_mfn(page_a);
    mfn_b = va_mfn(page_b);
    CHECK_EQ(PTE_MFN(orig), va_mfn(scratch_page));
    CHECK_EQ(orig & (_PAGE_PRESENT | _PAGE_RW), _PAGE_PRESENT | _PAGE_RW);
    CHECK(mfn_a != mfn_b);
    INFO("entry %#lx at %p (index %u) in L1 mfn %#lx", (unsigned long)orig, (void *)slot,
         slot_index, (unsigned long)l1_mfn);
    ready = true;
}

/*
 * With the assist off (Xen 4.17's default, also for dom0), a domU's store to its table
 * is its #PF. Domain 0's is emulated all the same: Xen passes every kernel-mode write
 * fault of the hardware domain on a present page through this emulation (on its way to
 * the read-only-MMIO check), whatever the assist says.
 */
static void store_without_assist(void)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    a.addr = (uint64_t)slot;
    a.val = pte_to(mfn_b);
    if (start_info->flags & SIF_INITDOMAIN) {
        CHECK_NO_TRAP(RUN(mov64, &a, &r), r);
        CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
        CHECK_EQ(target_read(), MAGIC_B);
    } else {
        CHECK_REFUSED(RUN(mov64, &a, &r), r, mov64, slot);
        CHECK_EQ(cur(), orig);
        CHECK_EQ(target_read(), MAGIC_S);
    }
}

TEST(assist_off)
{
    BEGIN();
    store_without_assist();
}

TEST(enable_assist)
{
    BEGIN();
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_WPT), 0);
}

TEST(mov_64)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(mov64, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
    a.val = pte_to(mfn_a);
    CHECK_NO_TRAP(RUN(mov64, &a, &r), r);
    CHECK_EQ(target_read(), MAGIC_A);
    CHECK_EQ(restore(), 0);
    CHECK_EQ(target_read(), MAGIC_S);
}

/* A 4-byte store: the other half comes from the entry as it is. */
TEST(mov_32_low_half)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = (uint32_t)pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(mov32, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
}

TEST(mov_32_high_half)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot + 4;
    a.val = (orig >> 32) | 0x80000000UL;    /* NX */
    CHECK_NO_TRAP(RUN(mov32, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(orig | _PAGE_NX));
    CHECK_EQ(target_read(), MAGIC_S);
}

TEST(mov_16_and_8)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = orig & 0xffff & ~_PAGE_RW;
    CHECK_NO_TRAP(RUN(mov16, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(orig & ~_PAGE_RW));
    CHECK_EQ(target_read(), MAGIC_S);
    CHECK_TRAP(catch_trap(do_write, scratch_page, &r), r, 14);
    CHECK_EQ(r.error, 3);
    /* movb $0: the low byte, so the present bit, goes. */
    CHECK_NO_TRAP(RUN(movb_zero, &a, &r), r);
    CHECK_EQ(cur(), orig & ~0xffUL);
    invlpg((uint64_t)scratch_page);
    CHECK_TRAP(catch_trap(do_read, scratch_page, &r), r, 14);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(r.cr2, (uint64_t)scratch_page);
}

TEST(mov_immediate)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    CHECK_NO_TRAP(RUN(movq_zero, &a, &r), r);
    CHECK_EQ(cur(), 0);
    invlpg((uint64_t)scratch_page);
    CHECK_TRAP(catch_trap(do_read, scratch_page, &r), r, 14);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(restore(), 0);
    CHECK_EQ(target_read(), MAGIC_S);
}

TEST(xchg)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t before;

    BEGIN();
    before = cur();
    a.addr = (uint64_t)slot;
    a.val = pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(xchg, &a, &r), r);
    CHECK_EQ(a.rsi_out, before);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
}

TEST(cmpxchg_success)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t before;

    BEGIN();
    before = cur();
    a.addr = (uint64_t)slot;
    a.rax = before;
    a.val = pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(cmpxchg, &a, &r), r);
    CHECK(a.flags_out & FL_ZF);
    CHECK_EQ(a.rax_out, before);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
}

/* A mismatch stores nothing; rax gets the entry and the flags are CMP's. */
TEST(cmpxchg_mismatch)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t before;

    BEGIN();
    before = cur();
    a.addr = (uint64_t)slot;
    a.rax = before + 0x1000;
    a.val = pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(cmpxchg, &a, &r), r);
    CHECK(!(a.flags_out & FL_ZF));
    CHECK_EQ(a.flags_out & FL_CF, 0);       /* rax > entry: no borrow */
    CHECK_EQ(a.rax_out, before);
    CHECK_EQ(cur(), before);
    CHECK_EQ(target_read(), MAGIC_S);
}

TEST(cmpxchg8b)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t before, want;

    BEGIN();
    before = cur();
    want = pte_to(mfn_b);
    a.addr = (uint64_t)slot;
    a.rax = (uint32_t)before + 0x1000;      /* mismatch first */
    a.rdx = before >> 32;
    a.rbx = (uint32_t)want;
    a.rcx = want >> 32;
    CHECK_NO_TRAP(RUN(cmpxchg8b, &a, &r), r);
    CHECK(!(a.flags_out & FL_ZF));
    CHECK_EQ(a.rax_out, (uint32_t)before);
    CHECK_EQ(a.rdx_out, before >> 32);
    CHECK_EQ(cur(), before);
    a.rax = (uint32_t)before;
    CHECK_NO_TRAP(RUN(cmpxchg8b, &a, &r), r);
    CHECK(a.flags_out & FL_ZF);
    CHECK_EQ(NOAD(cur()), NOAD(want));
    CHECK_EQ(target_read(), MAGIC_B);
}

/*
 * CMPXCHG16B spans two entries. Xen's emulator reads both and answers a mismatch; a
 * match would need a 16-byte store to a page table, which it refuses (#PF).
 */
TEST(cmpxchg16b)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t *pair, p0, p1;

    BEGIN();
    pair = (uint64_t *)((uint64_t)slot & ~15UL);
    p0 = pair[0];
    p1 = pair[1];
    a.addr = (uint64_t)pair;
    a.rax = p0;
    a.rdx = p1 + 0x1000;
    a.rbx = p0;
    a.rcx = p1;
    CHECK_NO_TRAP(RUN(cmpxchg16b, &a, &r), r);
    CHECK(!(a.flags_out & FL_ZF));
    CHECK_EQ(a.rax_out, p0);
    CHECK_EQ(a.rdx_out, p1);
    a.rdx = p1;
    CHECK_REFUSED(RUN(cmpxchg16b, &a, &r), r, cmpxchg16b, pair);
    CHECK_EQ(pair[0], p0);
    CHECK_EQ(pair[1], p1);
}

/* lock btr/bts of the RW bit: CF is the old bit; the mapping follows. */
TEST(lock_btr_bts_rw)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    CHECK_NO_TRAP(RUN(btr_rw, &a, &r), r);
    CHECK(a.flags_out & FL_CF);
    CHECK_EQ(NOAD(cur()), NOAD(orig & ~_PAGE_RW));
    invlpg((uint64_t)scratch_page);
    CHECK_TRAP(catch_trap(do_write, scratch_page, &r), r, 14);
    CHECK_EQ(r.error, 3);
    CHECK_EQ(r.cr2, (uint64_t)scratch_page);
    CHECK_NO_TRAP(RUN(btr_rw, &a, &r), r);  /* already clear: nothing to store */
    CHECK(!(a.flags_out & FL_CF));
    CHECK_NO_TRAP(RUN(bts_rw, &a, &r), r);
    CHECK(!(a.flags_out & FL_CF));
    CHECK_EQ(NOAD(cur()), NOAD(orig));
    invlpg((uint64_t)scratch_page);
    CHECK_NO_TRAP(catch_trap(do_write, scratch_page, &r), r);
}

/* A register bit offset moves the address by whole operands: from the entry next door. */
TEST(btr_register_offset)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    if (slot_index > 0) {
        a.addr = (uint64_t)slot - 8;
        a.rcx = 64 + 1;
    } else {
        a.addr = (uint64_t)slot + 8;
        a.rcx = (uint64_t)(-64 + 1);
    }
    CHECK_NO_TRAP(RUN(btr_reg, &a, &r), r);
    CHECK(a.flags_out & FL_CF);
    CHECK_EQ(NOAD(cur()), NOAD(orig & ~_PAGE_RW));
}

TEST(and_or)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    CHECK_NO_TRAP(RUN(and_rw, &a, &r), r);
    CHECK_EQ(a.flags_out & (FL_CF | FL_ZF | FL_SF | FL_OF), 0);
    CHECK_EQ(NOAD(cur()), NOAD(orig & ~_PAGE_RW));
    invlpg((uint64_t)scratch_page);
    CHECK_TRAP(catch_trap(do_write, scratch_page, &r), r, 14);
    CHECK_NO_TRAP(RUN(or_rw, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(orig));
    invlpg((uint64_t)scratch_page);
    CHECK_NO_TRAP(catch_trap(do_write, scratch_page, &r), r);
}

/* add/sub of a frame distance: page_a to page_b and back. */
TEST(add_sub)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    CHECK_EQ(HYPERVISOR_update_va_mapping((ulong)scratch_page, pte_to(mfn_a), UVMF_INVLPG), 0);
    CHECK_EQ(target_read(), MAGIC_A);
    a.addr = (uint64_t)slot;
    a.val = (mfn_b - mfn_a) << PAGE_SHIFT;
    CHECK_NO_TRAP(RUN(add, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
    CHECK_NO_TRAP(RUN(sub, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_a)));
    CHECK_EQ(target_read(), MAGIC_A);
}

TEST(sib_addressing)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.rcx = 3;
    a.addr = (uint64_t)slot - 8 - 3 * 8;
    a.val = pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(sib, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
}

/* mov %rdi, %rsi; mov %rsi, disp32(%rip); ret - written into code_buf. */
TEST(rip_relative)
{
    struct trap_record r;
    int32_t disp;

    BEGIN();
    disp = (int32_t)((int64_t)slot - (int64_t)(code_buf + 10));
    code_buf[0] = 0x48;
    code_buf[1] = 0x89;
    code_buf[2] = 0xfe;
    code_buf[3] = 0x48;
    code_buf[4] = 0x89;
    code_buf[5] = 0x35;
    memcpy(&code_buf[6], &disp, 4);
    code_buf[10] = 0xc3;
    CHECK_NO_TRAP(catch_trap((void (*)(void *))(void *)code_buf, (void *)pte_to(mfn_b), &r),
                  r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
}

static uint64_t rdmsr_gs_base(void)
{
    uint32_t lo, hi;

    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_GS_BASE));
    return ((uint64_t)hi << 32) | lo;
}

/*
 * A %gs: store. Xen 4.17's emulation uses the offset without the segment base, so it
 * works with a zero base; with another base the offset is not the faulting entry's
 * address and the store is the guest's #PF.
 */
TEST(gs_prefix)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t saved;

    BEGIN();
    saved = rdmsr_gs_base();
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, 0), 0);
    a.addr = (uint64_t)slot;
    a.val = pte_to(mfn_b);
    CHECK_NO_TRAP(RUN(gs_mov, &a, &r), r);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
    CHECK_EQ(target_read(), MAGIC_B);
    CHECK_EQ(restore(), 0);

    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, 0x100000), 0);
    a.addr = (uint64_t)slot - 0x100000;
    CHECK_REFUSED(RUN(gs_mov, &a, &r), r, gs_mov, slot);
    CHECK_EQ(cur(), orig);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, saved), 0);
}

/* Single-stepping over an emulated store: #DB after it. */
TEST(single_step)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = pte_to(mfn_b);
    CHECK_TRAP(RUN(single_step, &a, &r), r, 1);
    CHECK(r.rip == (uint64_t)probe_single_step_end);
    CHECK_EQ(NOAD(cur()), NOAD(pte_to(mfn_b)));
}

/* Mapping a page-table frame read-only is allowed: scratch_page shows the L1 itself. */
TEST(map_l1_read_only)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = pte_to(l1_mfn) & ~_PAGE_RW;
    CHECK_NO_TRAP(RUN(mov64, &a, &r), r);
    invlpg((uint64_t)scratch_page);
    CHECK_EQ(NOAD(TARGET[slot_index]), NOAD(a.val));
}

TEST(refuse_l1_writable)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = pte_to(l1_mfn);
    CHECK_REFUSED(RUN(mov64, &a, &r), r, mov64, slot);
    CHECK_EQ(cur(), orig);
    /* The same through cmpxchg with the right expected value. */
    a.rax = orig;
    CHECK_REFUSED(RUN(cmpxchg, &a, &r), r, cmpxchg, slot);
    CHECK_EQ(cur(), orig);
    CHECK_EQ(target_read(), MAGIC_S);
}

/* The frame of the hypervisor's L3 in L4 slot 260 (per-domain area) is not ours. */
TEST(refuse_foreign_frame)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    if (!(l4[260] & _PAGE_PRESENT))
        SKIP("L4 slot 260 not present");
    a.addr = (uint64_t)slot;
    a.val = pte_to(PTE_MFN(l4[260])) & ~_PAGE_RW;
    CHECK_REFUSED(RUN(mov64, &a, &r), r, mov64, slot);
    CHECK_EQ(cur(), orig);
}

/* Address bits far above any machine's RAM and I/O space. */
TEST(refuse_reserved_bits)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    a.addr = (uint64_t)slot;
    a.val = orig | (1UL << 50);
    CHECK_REFUSED(RUN(mov64, &a, &r), r, mov64, slot);
    CHECK_EQ(cur(), orig);
    a.addr = (uint64_t)slot + 4;
    a.val = (orig >> 32) | (1UL << 18);
    CHECK_REFUSED(RUN(mov32, &a, &r), r, mov32, (uint64_t)slot + 4);
    CHECK_EQ(cur(), orig);
}

/* An 8-byte store across two entries is never emulated. */
TEST(refuse_misaligned)
{
    struct pw a = { .val = 0 };
    struct trap_record r;
    uint64_t *s, s0, s1;

    BEGIN();
    s = slot_index < 511 ? slot : slot - 1;
    s0 = s[0];
    s1 = s[1];
    a.addr = (uint64_t)s + 4;
    a.val = s0;
    CHECK_TRAP(RUN(mov64, &a, &r), r, 14);
    CHECK_EQ(r.error, 3);
    CHECK(AT_INSN(r, mov64));
    CHECK_EQ(s[0], s0);
    CHECK_EQ(s[1], s1);
}

/* Only L1 tables: a store to an L2, L3 or L4 entry (even of its own value) faults. */
TEST(upper_levels_not_emulated)
{
    uint64_t *slots[] = { l2_slot, l3_slot, l4_slot };
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    for (size_t i = 0; i < ARRAY_SIZE(slots); i++) {
        uint64_t v = *slots[i];
        a.addr = (uint64_t)slots[i];
        a.val = v;
        CHECK_REFUSED(RUN(mov64, &a, &r), r, mov64, slots[i]);
        CHECK_EQ(*slots[i], v);
    }
}

/* A read-only mapping of an ordinary page: the fault is the guest's. */
TEST(writable_page_not_emulated)
{
    struct pw a = { .val = 0 };
    struct trap_record r;

    BEGIN();
    CHECK_EQ(HYPERVISOR_update_va_mapping((ulong)scratch_page, orig & ~_PAGE_RW, UVMF_INVLPG),
             0);
    a.addr = (uint64_t)scratch_page;
    a.val = 1;
    CHECK_REFUSED(RUN(mov64, &a, &r), r, mov64, scratch_page);
    CHECK_EQ(restore(), 0);
    CHECK_EQ(target_read(), MAGIC_S);
}

TEST(disable_assist)
{
    BEGIN();
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_WPT), 0);
    store_without_assist();
}
