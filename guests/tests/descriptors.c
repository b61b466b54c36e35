/*
 * Segment descriptors: set_gdt, update_descriptor, MMUEXT_SET_LDT and the lazily
 * mapped LDT, with the descriptor-page type behind them.
 *
 * A frame that holds a GDT or LDT becomes a descriptor page: its descriptors are
 * checked (and rewritten: DPL 3 for code and data, call gates made DPL 0) when it
 * gets the type, and no writable mapping of it may exist while it has it. The test
 * pages are .bss pages of the image, filled while writable and then remapped
 * read-only, as a kernel does before giving them to the hypervisor. Selectors are
 * loaded into %ds and %es only; both are null again after every probe.
 */
#include <guest/test.h>

/* Flat data, DPL 3 (accessed already set, so the CPU never writes to it). */
#define DATA3 0x00cff3000000ffffUL
#define DATA0 0x00cf93000000ffffUL   /* the same at DPL 0 */
#define CODE3 0x00affb000000ffffUL   /* 64-bit code, DPL 3 */
#define CODE0 0x00af9b000000ffffUL
#define XCODE3 0x00aff9000000ffffUL  /* execute-only 64-bit code, DPL 3 */
#define XCODE0 0x00af99000000ffffUL
#define DATA3_ABSENT 0x00cf73000000ffffUL
#define TSS_DESC 0x0000890000000067UL    /* available 64-bit TSS, present */
#define TSS_ABSENT 0x0000090000000067UL  /* the same, not present */
#define LDT_DESC 0x0000820000000fffUL
#define INTR_GATE 0x00008e00e0331000UL
#define SYS_TYPE0 0x0000800012345678UL   /* present system descriptor of type 0 */
/* Call gates (the first half of 16 bytes): DPL 3 to the flat kernel code selector. */
#define GATE_KCS 0x0000ec00e0331000UL
#define GATE_KCS_FIXED 0x00008c00e0331000UL  /* DPL 0 */
#define GATE_GDT 0x0000ec0000101000UL        /* to guest GDT selector 0x10 */
#define GATE_GDT_FIXED 0x00008c0000131000UL  /* DPL 0, target RPL 3 */
#define GATE_ENSO 0x0000ec00e0301000UL       /* to 0xe030: hypervisor's */
#define GATE_PARAMS 0x0000ec01e0331000UL     /* a parameter count: reserved */

#define GDT_MAX 7168
#define UNMAPPED (GUEST_VIRT_BASE + (512UL << 20))
#define PTE_RO (_PAGE_PRESENT | _PAGE_ACCESSED)
#define PTE_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

static uint64_t gdt_pages[2][512] __aligned(4096);
static uint64_t ldt_pages[2][512] __aligned(4096);
static uint64_t plain_page[512] __aligned(4096);

static uint64_t va_mfn(const void *va)
{
    return pfn_to_mfn(((uint64_t)va - GUEST_VIRT_BASE) >> PAGE_SHIFT);
}

static long map_ro(const void *va)
{
    return map_mfn((ulong)va, va_mfn(va), PTE_RO);
}

static long map_rw(const void *va)
{
    return map_mfn((ulong)va, va_mfn(va), PTE_RW);
}

static long set_gdt(const void *frames, ulong entries)
{
    return hypercall(__HYPERVISOR_set_gdt, (ulong)frames, entries, 0, 0, 0);
}

static long update_descriptor(uint64_t maddr, uint64_t desc)
{
    return hypercall(__HYPERVISOR_update_descriptor, maddr, desc, 0, 0, 0);
}

static long set_ldt(ulong va, unsigned int ents)
{
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT, .arg1.linear_addr = va,
                            .arg2.nr_ents = ents };

    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* A frame that is not ours: the table behind L4 slot 256 (the hypervisor's M2P). */
static uint64_t foreign_mfn(void)
{
    return PTE_MFN(((const uint64_t *)start_info->pt_base)[256]);
}

/* A frame number past any RAM. */
#define NO_SUCH_MFN 0xffffffffffUL

/* Machine address of the L1 entry that maps va in the bootstrap tables, or 0. */
static uint64_t l1e_maddr(uint64_t va)
{
    const uint64_t *t = (const uint64_t *)start_info->pt_base;
    uint64_t mfn = va_mfn(t);

    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t e = t[(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511];
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return 0;
        mfn = PTE_MFN(e);
        t = (const uint64_t *)(GUEST_VIRT_BASE + (M2P[mfn] << PAGE_SHIFT));
    }
    return (mfn << PAGE_SHIFT) + ((va >> PAGE_SHIFT) & 511) * 8;
}

static bool mapped_writable(const void *va)
{
    uint64_t leaf;
    int level;

    return pt_lookup((uint64_t)va, &leaf, &level) && (leaf & _PAGE_RW);
}

/* No GDT, no LDT: every test page can be mapped writable again. */
static long reset_tables(void)
{
    long rc = set_gdt(NULL, 0);

    return rc ? rc : set_ldt(0, 0);
}

/* Fills page with descs (the rest zero) and leaves it mapped read-only. */
static long prepare(uint64_t *page, const uint64_t *descs, size_t n)
{
    long rc = map_rw(page);

    if (rc)
        return rc;
    memset(page, 0, PAGE_SIZE);
    memcpy(page, descs, n * sizeof(*descs));
    return map_ro(page);
}

/* Probes: the selector is the argument (rdi). What %ds / %es held is recorded, then
 * they are nulled again. */
uint64_t seg_seen;
PROBE(load_ds, INSN(load_ds) "mov %di, %ds\n\t" END(load_ds)
               "mov %ds, %eax\n\tmov %rax, seg_seen(%rip)\n\txor %eax, %eax\n\tmov %eax, %ds");
PROBE(load_es, INSN(load_es) "mov %di, %es\n\t" END(load_es)
               "mov %es, %eax\n\tmov %rax, seg_seen(%rip)\n\txor %eax, %eax\n\tmov %eax, %es");

static bool load_ds(uint16_t sel, struct trap_record *r)
{
    seg_seen = 0xdead;
    return RUN(load_ds, (ulong)sel, r);
}

static bool load_es(uint16_t sel, struct trap_record *r)
{
    seg_seen = 0xdead;
    return RUN(load_es, (ulong)sel, r);
}

/* ---- descriptor checks, through update_descriptor on an ordinary page ---- */

static uint64_t plain_maddr(unsigned int index)
{
    return (va_mfn(plain_page) << PAGE_SHIFT) + index * 8UL;
}

/* update_descriptor of d into plain_page[1]: the result, and what the page then holds. */
static long put_desc(uint64_t d, uint64_t *stored)
{
    long rc;

    plain_page[1] = 0x5a5a5a5a5a5a5a5aUL;
    rc = update_descriptor(plain_maddr(1), d);
    *stored = plain_page[1];
    return rc;
}

TEST(setup)
{
    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(map_rw(plain_page), 0);
}

TEST(update_descriptor_code_data)
{
    uint64_t got;

    CHECK_EQ(put_desc(DATA3, &got), 0);
    CHECK_EQ(got, DATA3);
    CHECK_EQ(put_desc(CODE3, &got), 0);
    CHECK_EQ(got, CODE3);
    /* Not refused: a DPL-0 code or data descriptor is stored with DPL 3. */
    CHECK_EQ(put_desc(DATA0, &got), 0);
    CHECK_EQ(got, DATA3);
    CHECK_EQ(put_desc(CODE0, &got), 0);
    CHECK_EQ(got, CODE3);
    CHECK_EQ(put_desc(0x00cfb3000000ffffUL, &got), 0); /* DPL 1 */
    CHECK_EQ(got, DATA3);
    /* Conforming code too. */
    CHECK_EQ(put_desc(0x00af9f000000ffffUL, &got), 0);
    CHECK_EQ(got, 0x00afff000000ffffUL);
}

TEST(update_descriptor_system)
{
    uint64_t got;

    CHECK_EQ(put_desc(TSS_DESC, &got), -EINVAL);
    CHECK_EQ(got, 0x5a5a5a5a5a5a5a5aUL);
    CHECK_EQ(put_desc(LDT_DESC, &got), -EINVAL);
    CHECK_EQ(put_desc(INTR_GATE, &got), -EINVAL);
    /* Not present: anything goes, unchanged (DPL 0 stays). */
    CHECK_EQ(put_desc(TSS_ABSENT, &got), 0);
    CHECK_EQ(got, TSS_ABSENT);
    CHECK_EQ(put_desc(0x0000130000000000UL, &got), 0);
    CHECK_EQ(got, 0x0000130000000000UL);
    /* Present system type 0 (a gate's upper half): accepted as it is, DPL 0 included. */
    CHECK_EQ(put_desc(SYS_TYPE0, &got), 0);
    CHECK_EQ(got, SYS_TYPE0);
    CHECK_EQ(put_desc(0, &got), 0);
    CHECK_EQ(got, 0);
}

TEST(update_descriptor_call_gates)
{
    uint64_t got;

    /* Kept, but DPL 0 so any use faults; the DPL goes into the target's RPL. */
    CHECK_EQ(put_desc(GATE_KCS, &got), 0);
    CHECK_EQ(got, GATE_KCS_FIXED);
    CHECK_EQ(put_desc(GATE_GDT, &got), 0);
    CHECK_EQ(got, GATE_GDT_FIXED);
    /* An LDT target is fine whatever its index. */
    CHECK_EQ(put_desc(0x0000ec00fff41000UL, &got), 0);
    CHECK_EQ(got, 0x00008c00fff71000UL);
    /* A target among the hypervisor's selectors (other than the flat kernel code). */
    CHECK_EQ(put_desc(GATE_ENSO, &got), -EINVAL);
    CHECK_EQ(put_desc(0x0000ec00e0081000UL, &got), -EINVAL);
    CHECK_EQ(put_desc(GATE_PARAMS, &got), -EINVAL);
    CHECK_EQ(got, 0x5a5a5a5a5a5a5a5aUL);
}

TEST(update_descriptor_address)
{
    uint64_t before = plain_page[2];

    CHECK_EQ(update_descriptor(plain_maddr(2) + 4, DATA3), -EINVAL);
    CHECK_EQ(update_descriptor(plain_maddr(2) + 1, DATA3), -EINVAL);
    CHECK_EQ(plain_page[2], before);
    CHECK_EQ(update_descriptor(plain_maddr(511), DATA3), 0);
    CHECK_EQ(plain_page[511], DATA3);
    /* Frames that are not ours, or are not memory at all. */
    CHECK_EQ(update_descriptor(foreign_mfn() << PAGE_SHIFT, 0), -EINVAL);
    CHECK_EQ(update_descriptor(NO_SUCH_MFN << PAGE_SHIFT, DATA3), -EINVAL);
    CHECK_EQ(update_descriptor(~7UL, DATA3), -EINVAL);
    /* The page is writable and mapped so: written all the same (no type clash). */
    CHECK(mapped_writable(plain_page));
}

TEST(update_descriptor_page_table)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    unsigned int slot = 1;

    while (slot < 256 && l4[slot])
        slot++;
    CHECK(slot < 256);
    /* A page table cannot take the writable type. */
    CHECK_EQ(update_descriptor((va_mfn(l4) << PAGE_SHIFT) + slot * 8, 0), -EINVAL);
    CHECK_EQ(l4[slot], 0);
}

/* ---- set_gdt ---- */

TEST(set_gdt_bad_counts)
{
    uint64_t frame = va_mfn(gdt_pages[0]);

    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA3 }, 2), 0);
    CHECK_EQ(set_gdt(&frame, GDT_MAX + 1), -EINVAL);
    CHECK_EQ(set_gdt(&frame, 65536), -EINVAL);
    CHECK_EQ(set_gdt(&frame, ~0UL), -EINVAL);
    /* Checked before the list is read. */
    CHECK_EQ(set_gdt(NULL, GDT_MAX + 1), -EINVAL);
    /* No entries: no GDT, and the list is never read. */
    CHECK_EQ(set_gdt(NULL, 0), 0);
    CHECK_EQ(set_gdt((void *)0x8000000000000000UL, 0), 0);
}

TEST(set_gdt_bad_list)
{
    static const ulong bad[] = { 0, UNMAPPED, 0x8000000000000000UL, 0x0000800000000000UL,
                                 0xffff830000000000UL };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        CHECKF(set_gdt((void *)bad[i], 1) == -EFAULT, "list %#lx", bad[i]);
}

/* The entry count is an unsigned int: the upper half of the register is dropped. */
TEST(set_gdt_entries_32bit)
{
    uint64_t frame = va_mfn(gdt_pages[0]);
    struct trap_record r;

    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA3 }, 2), 0);
    CHECK_EQ(set_gdt(&frame, (1UL << 32) | 2), 0);
    CHECK_NO_TRAP(load_ds(0x0b, &r), r);
    CHECK_EQ(set_gdt(&frame, (1UL << 32) | (GDT_MAX + 1)), -EINVAL);
    CHECK_EQ(set_gdt(NULL, 0), 0);
}

TEST(set_gdt_bad_frames)
{
    uint64_t frames[2] = { va_mfn(gdt_pages[0]), 0 };

    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA3 }, 2), 0);
    frames[0] = foreign_mfn();
    CHECK_EQ(set_gdt(frames, 1), -EINVAL);
    frames[0] = NO_SUCH_MFN;
    CHECK_EQ(set_gdt(frames, 1), -EINVAL);
    /* A page table cannot be a descriptor page. */
    frames[0] = va_mfn((const void *)start_info->pt_base);
    CHECK_EQ(set_gdt(frames, 1), -EINVAL);
    /* Mapped writable: the types clash. */
    CHECK_EQ(map_rw(gdt_pages[1]), 0);
    frames[0] = va_mfn(gdt_pages[1]);
    CHECK_EQ(set_gdt(frames, 1), -EINVAL);
    /* A good first frame and a bad second one: nothing stays taken. */
    frames[0] = va_mfn(gdt_pages[0]);
    frames[1] = va_mfn(gdt_pages[1]);
    CHECK_EQ(set_gdt(frames, 513), -EINVAL);
    CHECK_EQ(map_rw(gdt_pages[0]), 0);
    CHECK_EQ(map_ro(gdt_pages[0]), 0);
}

/*
 * A page that fails validation: refused, but the entries before the bad one have
 * already been rewritten in the frame.
 */
TEST(set_gdt_bad_descriptor)
{
    uint64_t frame = va_mfn(gdt_pages[0]);

    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA0, CODE0, TSS_DESC, DATA0 },
                     5), 0);
    CHECK_EQ(set_gdt(&frame, 512), -EINVAL);
    CHECK_EQ(gdt_pages[0][1], DATA3);
    CHECK_EQ(gdt_pages[0][2], CODE3);
    CHECK_EQ(gdt_pages[0][3], TSS_DESC);
    CHECK_EQ(gdt_pages[0][4], DATA0);
    /* Not a descriptor page now: it can be mapped writable. */
    CHECK_EQ(map_rw(gdt_pages[0]), 0);
    CHECK_EQ(map_ro(gdt_pages[0]), 0);
    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, LDT_DESC }, 2), 0);
    CHECK_EQ(set_gdt(&frame, 2), -EINVAL);
    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, GATE_ENSO }, 2), 0);
    CHECK_EQ(set_gdt(&frame, 2), -EINVAL);
}

TEST(set_gdt_load_selectors)
{
    uint64_t frames[2] = { va_mfn(gdt_pages[0]), va_mfn(gdt_pages[1]) };
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(gdt_pages[0],
                     (const uint64_t[]){ 0, DATA3, DATA0, CODE0, SYS_TYPE0, GATE_KCS,
                                         TSS_ABSENT, DATA3_ABSENT, XCODE0 }, 9), 0);
    CHECK_EQ(prepare(gdt_pages[1], (const uint64_t[]){ DATA3, DATA0 }, 2), 0);
    CHECK_EQ(set_gdt(frames, 514), 0);
    /* Validation rewrote the frame. */
    CHECK_EQ(gdt_pages[0][1], DATA3);
    CHECK_EQ(gdt_pages[0][2], DATA3);
    CHECK_EQ(gdt_pages[0][3], CODE3);
    CHECK_EQ(gdt_pages[0][4], SYS_TYPE0);
    CHECK_EQ(gdt_pages[0][5], GATE_KCS_FIXED);
    CHECK_EQ(gdt_pages[0][6], TSS_ABSENT);
    CHECK_EQ(gdt_pages[0][7], DATA3_ABSENT);
    CHECK_EQ(gdt_pages[0][8], XCODE3);

    CHECK_NO_TRAP(load_ds(0x0b, &r), r);
    CHECK_EQ(seg_seen, 0x0b);
    /* RPL 0 in the selector is fine: the DPL is 3. */
    CHECK_NO_TRAP(load_es(0x10, &r), r);
    CHECK_EQ(seg_seen, 0x10);
    CHECK_NO_TRAP(load_ds(0x13, &r), r);
    /* The second frame: entries 512 and 513. */
    CHECK_NO_TRAP(load_ds(0x1003, &r), r);
    CHECK_NO_TRAP(load_es(0x100b, &r), r);
    /* Readable code loads (its DPL is 3 now); execute-only code, system type 0, a
     * call gate or a TSS do not: #GP naming the selector. */
    CHECK_NO_TRAP(load_ds(0x1b, &r), r);
    CHECK_TRAP(load_ds(0x43, &r), r, 13);
    CHECK(AT_INSN(r, load_ds));
    CHECK_EQ(r.error, 0x40);
    CHECK_TRAP(load_ds(0x23, &r), r, 13);
    CHECK_EQ(r.error, 0x20);
    CHECK_TRAP(load_ds(0x2b, &r), r, 13);
    CHECK_EQ(r.error, 0x28);
    CHECK_TRAP(load_ds(0x33, &r), r, 13);
    CHECK_EQ(r.error, 0x30);
    /* A data segment that is not present: #NP. */
    CHECK_TRAP(load_ds(0x3b, &r), r, 11);
    CHECK_EQ(r.error, 0x38);
    /* Past the given frames: the zero page, so not a data segment. */
    CHECK_TRAP(load_ds(0x2003, &r), r, 13);
    CHECK_EQ(r.error, 0x2000);
    CHECK_TRAP(load_ds(0xdff3, &r), r, 13);
    CHECK_EQ(r.error, 0xdff0);
    /* The flat selectors are still there. */
    CHECK_NO_TRAP(load_ds(FLAT_KERNEL_DS, &r), r);
    CHECK_EQ(seg_seen, FLAT_KERNEL_DS);
}

/* Entries past the count but in the last frame are reachable: whole frames are mapped. */
TEST(set_gdt_whole_frames)
{
    uint64_t frame = va_mfn(gdt_pages[0]);
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA3, DATA3 }, 3), 0);
    CHECK_EQ(set_gdt(&frame, 2), 0);
    CHECK_NO_TRAP(load_ds(0x13, &r), r);
}

TEST(set_gdt_page_stays_read_only)
{
    uint64_t frame = va_mfn(gdt_pages[0]);
    uint64_t pte = (frame << PAGE_SHIFT) | PTE_RW;
    struct mmu_update u = { .ptr = l1e_maddr((uint64_t)gdt_pages[0]), .val = pte };
    uint64_t got;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA3 }, 2), 0);
    CHECK_EQ(set_gdt(&frame, 2), 0);
    CHECK(u.ptr);
    CHECK_EQ(HYPERVISOR_update_va_mapping((ulong)gdt_pages[0], pte, UVMF_INVLPG), -EBUSY);
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF), -EBUSY);
    CHECK(!mapped_writable(gdt_pages[0]));
    /* Read-only mappings are fine. */
    CHECK_EQ(map_ro(gdt_pages[0]), 0);
    /* A plain write into it is refused (it is not a writable page now). */
    u.ptr = (frame << PAGE_SHIFT) + 16;
    u.val = DATA3;
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF), -EINVAL);
    /* update_descriptor writes it under its own type. */
    CHECK_EQ(update_descriptor((frame << PAGE_SHIFT) + 16, DATA0), 0);
    CHECK_EQ(gdt_pages[0][2], DATA3);
    CHECK_EQ(update_descriptor((frame << PAGE_SHIFT) + 24, TSS_DESC), -EINVAL);
    got = gdt_pages[0][3];
    CHECK_EQ(got, 0);
    /* Replacing the GDT releases the frame. */
    CHECK_EQ(set_gdt(NULL, 0), 0);
    CHECK_EQ(map_rw(gdt_pages[0]), 0);
    CHECK_EQ(map_ro(gdt_pages[0]), 0);
}

TEST(set_gdt_update_in_use)
{
    uint64_t frame = va_mfn(gdt_pages[0]);
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0 }, 1), 0);
    CHECK_EQ(set_gdt(&frame, 512), 0);
    CHECK_TRAP(load_ds(0x2b, &r), r, 13);
    CHECK_EQ(update_descriptor((frame << PAGE_SHIFT) + 0x28, DATA3), 0);
    CHECK_NO_TRAP(load_ds(0x2b, &r), r);
    CHECK_EQ(update_descriptor((frame << PAGE_SHIFT) + 0x28, 0), 0);
    CHECK_TRAP(load_ds(0x2b, &r), r, 13);
    CHECK_EQ(set_gdt(NULL, 0), 0);
    /* No GDT: the guest selectors read as zeroes again. */
    CHECK_TRAP(load_ds(0x0b, &r), r, 13);
    CHECK_EQ(r.error, 0x08);
}

/* ---- the LDT ---- */

TEST(set_ldt_bad_args)
{
    ulong base = (ulong)ldt_pages[0];

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(set_ldt(base, 8193), -EINVAL);
    CHECK_EQ(set_ldt(base, ~0U), -EINVAL);
    CHECK_EQ(set_ldt(base + 8, 1), -EINVAL);
    CHECK_EQ(set_ldt(base + 0x800, 1), -EINVAL);
    CHECK_EQ(set_ldt(0xffff830000000000UL, 1), -EINVAL);
    CHECK_EQ(set_ldt(0xffff800000000000UL, 1), -EINVAL);
    CHECK_EQ(set_ldt(0xffff87fffffff000UL, 1), -EINVAL);
    CHECK_EQ(set_ldt(0x0000800000000000UL, 1), -EINVAL);
    CHECK_EQ(set_ldt(0x8000000000000000UL, 1), -EINVAL);
    /* With no entries the address is not looked at. */
    CHECK_EQ(set_ldt(0x8000000000000008UL, 0), 0);
    /* Only where it is, not what is there, is checked now. */
    CHECK_EQ(set_ldt(0xffff880000000000UL, 1), 0);
    CHECK_EQ(set_ldt(UNMAPPED, 8192), 0);
    CHECK_EQ(set_ldt(0, 8192), 0);
    CHECK_EQ(set_ldt(0, 0), 0);
}

TEST(ldt_load_selectors)
{
    ulong base = (ulong)ldt_pages[0];
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(ldt_pages[0], (const uint64_t[]){ DATA3, DATA0, XCODE0 }, 3), 0);
    CHECK_EQ(set_ldt(base, 3), 0);
    /* Setting the LDT took nothing yet: the frame can still be mapped writable. */
    CHECK_EQ(map_rw(ldt_pages[0]), 0);
    CHECK_EQ(map_ro(ldt_pages[0]), 0);
    CHECK_EQ(ldt_pages[0][1], DATA0);

    CHECK_NO_TRAP(load_ds(0x07, &r), r);
    CHECK_EQ(seg_seen, 0x07);
    /* The first use mapped the page: validated (rewritten) and held. */
    CHECK_EQ(ldt_pages[0][1], DATA3);
    CHECK_EQ(ldt_pages[0][2], XCODE3);
    CHECK_EQ(HYPERVISOR_update_va_mapping(base, (va_mfn(ldt_pages[0]) << PAGE_SHIFT) | PTE_RW,
                                          UVMF_INVLPG), -EBUSY);
    CHECK_NO_TRAP(load_es(0x0f, &r), r);
    CHECK_EQ(seg_seen, 0x0f);
    /* Execute-only code, and past the limit (3 entries). */
    CHECK_TRAP(load_ds(0x17, &r), r, 13);
    CHECK_EQ(r.error, 0x14);
    CHECK_TRAP(load_ds(0x1f, &r), r, 13);
    CHECK(AT_INSN(r, load_ds));
    CHECK_EQ(r.error, 0x1c);
    /* The same LDT again changes nothing. */
    CHECK_EQ(set_ldt(base, 3), 0);
    CHECK_NO_TRAP(load_ds(0x07, &r), r);
    /* update_descriptor into the LDT in use. */
    CHECK_EQ(update_descriptor(va_mfn(ldt_pages[0]) << PAGE_SHIFT, 0), 0);
    CHECK_TRAP(load_ds(0x07, &r), r, 13);
    CHECK_EQ(r.error, 0x04);
    CHECK_EQ(update_descriptor(va_mfn(ldt_pages[0]) << PAGE_SHIFT, DATA0), 0);
    CHECK_NO_TRAP(load_ds(0x07, &r), r);

    /* Cleared: LDT selectors fault, and the frame is ours to map writable again. */
    CHECK_EQ(set_ldt(0, 0), 0);
    CHECK_TRAP(load_ds(0x07, &r), r, 13);
    CHECK_EQ(r.error, 0x04);
    CHECK_EQ(map_rw(ldt_pages[0]), 0);
}

/* Pages are mapped one at a time, on first use. */
TEST(ldt_lazy_pages)
{
    ulong base = (ulong)ldt_pages[0];
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(ldt_pages[0], (const uint64_t[]){ DATA3 }, 1), 0);
    CHECK_EQ(prepare(ldt_pages[1], (const uint64_t[]){ DATA0 }, 1), 0);
    CHECK_EQ(set_ldt(base, 1024), 0);
    CHECK_NO_TRAP(load_ds(0x07, &r), r);
    /* The second page is untouched so far. */
    CHECK_EQ(map_rw(ldt_pages[1]), 0);
    CHECK_EQ(ldt_pages[1][0], DATA0);
    CHECK_EQ(map_ro(ldt_pages[1]), 0);
    CHECK_NO_TRAP(load_ds(0x1007, &r), r);
    CHECK_EQ(ldt_pages[1][0], DATA3);
    CHECK_EQ(map_rw(ldt_pages[1]), -EBUSY);
    /* A new LDT (here: the same base, fewer entries) releases both. */
    CHECK_EQ(set_ldt(base, 1), 0);
    CHECK_EQ(map_rw(ldt_pages[1]), 0);
    CHECK_EQ(map_rw(ldt_pages[0]), 0);
    CHECK_EQ(set_ldt(0, 0), 0);
}

/* The LDT's page cannot be made a descriptor page: the guest gets the #PF, at the
 * LDT's own address, with the error code of a supervisor read. */
TEST(ldt_page_writable)
{
    ulong base = (ulong)ldt_pages[0];
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(map_rw(ldt_pages[0]), 0);
    ldt_pages[0][0] = DATA3;
    CHECK_EQ(set_ldt(base, 1), 0);
    CHECK_TRAP(load_ds(0x07, &r), r, 14);
    CHECK(AT_INSN(r, load_ds));
    CHECK_EQ(r.cr2, base);
    CHECK_EQ(r.error, 0);
    /* Made read-only, the next use maps it. */
    CHECK_EQ(map_ro(ldt_pages[0]), 0);
    CHECK_NO_TRAP(load_ds(0x07, &r), r);
    CHECK_EQ(set_ldt(0, 0), 0);
}

TEST(ldt_bad_descriptor)
{
    ulong base = (ulong)ldt_pages[0];
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(ldt_pages[0], (const uint64_t[]){ DATA3, TSS_DESC }, 2), 0);
    CHECK_EQ(set_ldt(base, 1), 0);
    CHECK_TRAP(load_ds(0x07, &r), r, 14);
    CHECK_EQ(r.cr2, base);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(set_ldt(0, 0), 0);
}

TEST(ldt_unmapped)
{
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(set_ldt(UNMAPPED, 1024), 0);
    CHECK_TRAP(load_ds(0x07, &r), r, 14);
    CHECK_EQ(r.cr2, UNMAPPED);
    CHECK_EQ(r.error, 0);
    CHECK_TRAP(load_es(0x100f, &r), r, 14);
    CHECK(AT_INSN(r, load_es));
    CHECK_EQ(r.cr2, UNMAPPED + 0x1008);
    CHECK_EQ(set_ldt(0, 0), 0);
}

/* An LDT that runs past the lower canonical half: #GP with the selector (TI set). */
TEST(ldt_non_canonical)
{
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(set_ldt(0x00007ffffffff000UL, 8192), 0);
    CHECK_TRAP(load_ds(0x1007, &r), r, 13);
    CHECK(AT_INSN(r, load_ds));
    CHECK_EQ(r.error, 0x1004);
    CHECK_TRAP(load_ds(0x100f, &r), r, 13);
    CHECK_EQ(r.error, 0x100c);
    /* The page below the hole is ordinary: unmapped here, so #PF. */
    CHECK_TRAP(load_ds(0x0007, &r), r, 14);
    CHECK_EQ(r.cr2, 0x00007ffffffff000UL);
    CHECK_EQ(set_ldt(0, 0), 0);
}

/* The GDT and LDT selectors side by side, then everything released. */
TEST(gdt_and_ldt)
{
    uint64_t frame = va_mfn(gdt_pages[0]);
    struct trap_record r;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(gdt_pages[0], (const uint64_t[]){ 0, DATA3 }, 2), 0);
    CHECK_EQ(prepare(ldt_pages[0], (const uint64_t[]){ DATA3 }, 1), 0);
    CHECK_EQ(set_gdt(&frame, 2), 0);
    CHECK_EQ(set_ldt((ulong)ldt_pages[0], 1), 0);
    CHECK_NO_TRAP(load_ds(0x0b, &r), r);
    CHECK_NO_TRAP(load_es(0x07, &r), r);
    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(map_rw(gdt_pages[0]), 0);
    CHECK_EQ(map_rw(ldt_pages[0]), 0);
}

/*
 * Yields with an LDT selector in %ds: whenever another vCPU runs in between (a second
 * domain on this CPU), the LDT must come back with the vCPU, and %ds with it.
 */
PROBE(set_ds, INSN(set_ds) "mov %di, %ds\n\t" END(set_ds));

static uint16_t read_ds(void)
{
    uint16_t v;

    __asm__ __volatile__("mov %%ds, %0" : "=r"(v));
    return v;
}

TEST(ldt_across_yields)
{
    struct trap_record r;
    uint16_t ds;

    CHECK_EQ(reset_tables(), 0);
    CHECK_EQ(prepare(ldt_pages[0], (const uint64_t[]){ DATA3, DATA3 }, 2), 0);
    CHECK_EQ(set_ldt((ulong)ldt_pages[0], 2), 0);
    CHECK_NO_TRAP(RUN(set_ds, 0x0f, &r), r);
    for (int i = 0; i < 50; i++) {
        CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
        CHECK_NO_TRAP(load_es(0x07, &r), r);
    }
    ds = read_ds();
    CHECK_NO_TRAP(RUN(set_ds, 0, &r), r);
    CHECK_EQ(ds, 0x0f);
    CHECK_EQ(reset_tables(), 0);
}
