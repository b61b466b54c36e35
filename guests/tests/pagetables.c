/*
 * Page tables of a 64-bit PV guest: building a private hierarchy from spare frames,
 * pinning and unpinning, switching the kernel's base pointer to it, the type rules
 * (a frame is a table of one level or writable memory, never both), the flags and
 * frames an entry may name, mmu_update / mmuext_op batches and their done counts, the
 * flush options of update_va_mapping and mmuext_op, copy/clear page, and a soak that
 * builds and tears down thousands of small hierarchies.
 *
 * The private hierarchy h maps h.data (holding DATA_MAGIC) at PRIV_VA, L4 slot 1,
 * which the kernel's own tables leave empty; its L4 also carries the kernel's slots,
 * so it can become the base pointer. Tables are filled through a writable mapping
 * at scratch_page while their frames are plain memory, and changed only through
 * mmu_update once they are tables. The tests in the middle of the file use h in the
 * state the earlier ones left it (all four levels pinned); near the end they take it
 * apart again.
 *
 * Second-vCPU flush semantics (VCPUOP_initialise) are not covered.
 */
#include <guest/test.h>
#include <guest/frames.h>
#include <guest/pt.h>

#define PRIV_VA (1UL << 39)                        /* L4 1, L3 0, L2 0, L1 0 */
#define UNMAPPED (GUEST_VIRT_BASE + (512UL << 20))
#define HV_ADDR 0xffff830000000000UL
#define NONCANON 0x8000000000000000UL
#define DATA_MAGIC 0xda7a0000da7a0002UL  /* not present, read as an L1 entry */
#define MAGIC_A 0xaaaa0000aaaa0001UL
#define MAGIC_B 0xbbbb0000bbbb0002UL

#define KPAGE (_PAGE_PRESENT | _PAGE_ACCESSED)      /* a read-only kernel page */
#define KPAGE_RW (KPAGE | _PAGE_RW | _PAGE_DIRTY)
/* What Xen stores for a kernel L1 entry (no _PAGE_USER given). */
#define AS_KERNEL(e) ((e) | _PAGE_USER | _PAGE_GUEST_KERNEL)

static struct {
    uint64_t l4, l3, l2, l1, data;
} h;
static bool h_built;

/* A table image, copied into a frame by fill_frame. */
static uint64_t img[512];

static const uint64_t *kl4(void)
{
    return (const uint64_t *)start_info->pt_base;
}

static uint64_t kernel_l4_mfn(void)
{
    return image_mfn((const void *)start_info->pt_base);
}

static bool guest_l4_slot(unsigned int i)
{
    return i < 256 || i > 271;
}

/* img -> frame mfn, through a writable mapping at scratch_page. */
static long fill_frame(uint64_t mfn)
{
    long rc = scratch_map(mfn, _PAGE_RW | _PAGE_DIRTY);

    if (rc)
        return rc;
    memcpy(scratch_page, img, sizeof(img));
    scratch_restore();
    return 0;
}

static uint64_t scratch_word(void)
{
    return *(volatile uint64_t *)scratch_page;
}

static uint64_t read_cr3(void)
{
    uint64_t v;

    __asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
    return v;
}

static long machphys(uint64_t mfn, uint64_t pfn)
{
    struct mmu_update u = { .ptr = (mfn << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, .val = pfn };

    return HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
}

/* The frame behind the kernel L4's slot 256 (the M2P): one of the hypervisor's tables. */
static uint64_t hv_frame(void)
{
    return PTE_MFN(kl4()[256]);
}

static long max_ram_page(void)
{
    return HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
}

/* ---- a private hierarchy ---- */

TEST(build_hierarchy)
{
    h.l4 = frame_alloc();
    h.l3 = frame_alloc();
    h.l2 = frame_alloc();
    h.l1 = frame_alloc();
    h.data = frame_alloc();
    CHECK(h.l4 && h.l3 && h.l2 && h.l1 && h.data);
    CHECK(!(kl4()[1] & _PAGE_PRESENT));

    memset(img, 0, sizeof(img));
    img[0] = DATA_MAGIC;
    CHECK_EQ(fill_frame(h.data), 0);
    img[0] = h.data << PAGE_SHIFT | KPAGE_RW;
    CHECK_EQ(fill_frame(h.l1), 0);
    img[0] = h.l1 << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(h.l2), 0);
    img[0] = h.l2 << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(h.l3), 0);
    /* The kernel's slots, so that this L4 can be the base pointer, and ours. */
    for (unsigned int i = 0; i < 512; i++)
        img[i] = guest_l4_slot(i) ? kl4()[i] : 0;
    img[1] = h.l3 << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(h.l4), 0);
    CHECK_EQ(pt_read(h.data, 0), DATA_MAGIC);
    h_built = true;
}

TEST(pin_l1)
{
    CHECK(h_built);
    CHECK_EQ(pt_pin(1, h.l1), 0);
}

TEST(pin_l2)
{
    CHECK(h_built);
    CHECK_EQ(pt_pin(2, h.l2), 0);
}

TEST(pin_l3)
{
    CHECK(h_built);
    CHECK_EQ(pt_pin(3, h.l3), 0);
}

TEST(pin_l4)
{
    CHECK(h_built);
    CHECK_EQ(pt_pin(4, h.l4), 0);
}

/* The entry as validation left it: a kernel page gets _PAGE_USER and bit 52. */
TEST(l1_entry_adjusted)
{
    CHECK_EQ(pt_read(h.l1, 0), AS_KERNEL(h.data << PAGE_SHIFT | KPAGE_RW));
    CHECK_EQ(pt_read(h.l2, 0), h.l1 << PAGE_SHIFT | PTE_TABLE);
}

TEST(pin_twice)
{
    CHECK_EQ(pt_pin(1, h.l1), -EINVAL);
    CHECK_EQ(pt_pin(2, h.l2), -EINVAL);
    CHECK_EQ(pt_pin(4, h.l4), -EINVAL);
}

/* A frame in use as one level cannot be pinned as another. */
TEST(pin_as_other_level)
{
    CHECK_EQ(pt_pin(2, h.l1), -EINVAL);
    CHECK_EQ(pt_pin(1, h.l2), -EINVAL);
    CHECK_EQ(pt_pin(4, h.l3), -EINVAL);
    CHECK_EQ(pt_pin(3, h.l4), -EINVAL);
    CHECK_EQ(pt_pin(1, h.l4), -EINVAL);
}

TEST(unpin_not_pinned)
{
    uint64_t f = frame_alloc();

    CHECK(f);
    CHECK_EQ(pt_unpin(f), -EINVAL);
    CHECK_EQ(pt_unpin(h.data), -EINVAL);
    frame_free(f);
}

TEST(table_map_readonly)
{
    const uint64_t t[] = { h.l1, h.l2, h.l3, h.l4 };

    for (unsigned int i = 0; i < ARRAY_SIZE(t); i++) {
        long rc = scratch_map(t[i], 0);

        scratch_restore();
        CHECKF(rc == 0, "L%u: %ld", i + 1, rc);
    }
}

TEST(table_map_writable_uvm)
{
    const uint64_t t[] = { h.l1, h.l2, h.l3, h.l4 };

    for (unsigned int i = 0; i < ARRAY_SIZE(t); i++) {
        long rc = scratch_map(t[i], _PAGE_RW | _PAGE_DIRTY);

        scratch_restore();
        CHECKF(rc == -EBUSY, "L%u: %ld", i + 1, rc);
    }
}

/* The same through mmu_update of the live L1 entry behind scratch_page. */
TEST(table_map_writable_mmu_update)
{
    struct mmu_update u = { .ptr = boot_l1_slot((ulong)scratch_page) };
    long rc_rw, rc_ro;
    uint64_t seen;

    CHECK(u.ptr);
    u.val = h.l2 << PAGE_SHIFT | KPAGE_RW;
    rc_rw = HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
    u.val = h.l2 << PAGE_SHIFT | KPAGE;
    rc_ro = HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
    /* mmu_update of an L1 entry flushes nothing. */
    mmuext1(MMUEXT_INVLPG_LOCAL, (ulong)scratch_page);
    seen = scratch_word();
    scratch_restore();
    CHECK_EQ(rc_rw, -EBUSY);
    CHECK_EQ(rc_ro, 0);
    CHECK_EQ(seen, h.l1 << PAGE_SHIFT | PTE_TABLE);
}

TEST(pin_frame_mapped_writable)
{
    uint64_t f = frame_alloc();
    long rc;

    CHECK(f);
    CHECK_EQ(scratch_map(f, _PAGE_RW | _PAGE_DIRTY), 0);
    rc = pt_pin(1, f);
    scratch_restore();
    CHECK_EQ(rc, -EINVAL);
    /* Unmapped, it can. */
    CHECK_EQ(pt_pin(1, f), 0);
    CHECK_EQ(pt_unpin(f), 0);
    frame_free(f);
}

TEST(pin_frame_mapped_readonly)
{
    uint64_t f = frame_alloc();
    long rc_pin, rc_unpin;

    CHECK(f);
    CHECK_EQ(scratch_map(f, 0), 0);
    rc_pin = pt_pin(1, f);
    rc_unpin = pt_unpin(f);
    scratch_restore();
    CHECK_EQ(rc_pin, 0);
    CHECK_EQ(rc_unpin, 0);
    frame_free(f);
}

/* ---- type confusion ---- */

/* An L2 entry (RW) naming a frame that is an L2 itself: not an L1, refused. */
TEST(l2_entry_to_l2)
{
    uint64_t x = frame_alloc();
    long rc;

    CHECK(x);
    CHECK_EQ(pt_pin(2, x), 0);
    rc = pt_set(h.l2, 5, x << PAGE_SHIFT | PTE_TABLE);
    CHECK_EQ(pt_unpin(x), 0);
    CHECK_EQ(rc, -EINVAL);
    CHECK_EQ(pt_read(h.l2, 5), 0);
    frame_free(x);
}

TEST(upper_entry_to_wrong_level)
{
    CHECK_EQ(pt_set(h.l3, 5, h.l1 << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_set(h.l4, 5, h.l2 << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_set(h.l3, 5, h.l3 << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_set(h.l2, 5, h.l3 << PAGE_SHIFT | PTE_TABLE), -EINVAL);
}

/* h.data has a writable reference (h.l1 maps it RW): no table. */
TEST(l2_entry_to_writable_frame)
{
    CHECK_EQ(pt_set(h.l2, 5, h.data << PAGE_SHIFT | PTE_TABLE), -EINVAL);
}

/* A fresh frame named by an L2 entry becomes an L1 (validated: empty). */
TEST(l2_entry_to_fresh_frame)
{
    uint64_t y = frame_alloc();

    CHECK(y);
    CHECK_EQ(pt_set(h.l2, 6, y << PAGE_SHIFT | PTE_TABLE), 0);
    CHECK(!frame_writable(y));
    CHECK_EQ(pt_pin(2, y), -EINVAL);
    CHECK_EQ(pt_set(h.l2, 6, 0), 0);
    CHECK(frame_writable(y));
    frame_free(y);
}

TEST(used_as_l2_not_pinnable_as_l1)
{
    uint64_t y = frame_alloc();

    CHECK(y);
    CHECK_EQ(pt_set(h.l3, 6, y << PAGE_SHIFT | PTE_TABLE), 0);
    CHECK_EQ(pt_pin(1, y), -EINVAL);
    CHECK_EQ(pt_set(h.l3, 6, 0), 0);
    CHECK_EQ(pt_pin(1, y), 0);
    CHECK_EQ(pt_unpin(y), 0);
    frame_free(y);
}

/* An L1 may map itself read-only, not writable. */
TEST(l1_maps_itself)
{
    uint64_t z = frame_alloc();

    CHECK(z);
    memset(img, 0, sizeof(img));
    img[3] = z << PAGE_SHIFT | KPAGE;
    CHECK_EQ(fill_frame(z), 0);
    CHECK_EQ(pt_pin(1, z), 0);
    CHECK_EQ(pt_unpin(z), 0);
    img[3] = z << PAGE_SHIFT | KPAGE_RW;
    CHECK_EQ(fill_frame(z), 0);
    CHECK_EQ(pt_pin(1, z), -EBUSY);
    CHECK(frame_writable(z));
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, z), 0);
    frame_free(z);
}

/*
 * Root tables naming root tables: writable never; read-only is Xen's "linear page
 * table" (observed, not asserted).
 */
TEST(l4_entry_to_l4)
{
    long rc;

    CHECK_EQ(pt_set(h.l4, 3, h.l4 << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    rc = pt_set(h.l4, 3, h.l4 << PAGE_SHIFT | _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED);
    INFO("read-only L4 entry naming its own L4 (linear page table): %ld", rc);
    CHECK_EQ(pt_set(h.l4, 3, 0), 0);
}

/* ---- flags ---- */

TEST(pse_refused)
{
    CHECK_EQ(pt_set(h.l2, 7, h.data << PAGE_SHIFT | PTE_TABLE | _PAGE_PSE), -EINVAL);
    CHECK_EQ(pt_set(h.l3, 7, h.data << PAGE_SHIFT | PTE_TABLE | _PAGE_PSE), -EINVAL);
    CHECK_EQ(pt_set(h.l4, 7, h.l3 << PAGE_SHIFT | PTE_TABLE | _PAGE_PSE), -EINVAL);
    CHECK_EQ(pt_set(h.l2, 7, h.l1 << PAGE_SHIFT | PTE_TABLE | _PAGE_PSE), -EINVAL);
}

TEST(global_and_cache_bits_refused_above_l1)
{
    static const uint64_t bad[] = { _PAGE_GLOBAL, _PAGE_PWT, _PAGE_PCD };
    const uint64_t target[] = { 0, 0, h.l1, h.l2, h.l3 };

    for (unsigned int lvl = 2; lvl <= 4; lvl++) {
        uint64_t t = lvl == 2 ? h.l2 : lvl == 3 ? h.l3 : h.l4;

        for (unsigned int b = 0; b < ARRAY_SIZE(bad); b++) {
            long rc = pt_set(t, 7, target[lvl] << PAGE_SHIFT | PTE_TABLE | bad[b]);

            CHECKF(rc == -EINVAL, "L%u flag %#lx: %ld", lvl, bad[b], rc);
        }
    }
}

TEST(l1_accepts_nx_avail_global)
{
    uint64_t v = h.data << PAGE_SHIFT | KPAGE | _PAGE_NX | _PAGE_AVAIL | _PAGE_AVAIL_HIGH |
                 _PAGE_GLOBAL;

    CHECK_EQ(pt_set(h.l1, 7, v), 0);
    CHECK_EQ(pt_read(h.l1, 7), v | _PAGE_USER);
    CHECK_EQ(pt_set(h.l1, 7, 0), 0);
}

/*
 * Domain 0 may choose cache attributes (PWT, PCD, PAT) in L1 entries; a domain with no
 * I/O resources may not (Xen's l1_disallow_mask).
 */
TEST(l1_cache_attrs_dom0)
{
    uint64_t v = h.data << PAGE_SHIFT | KPAGE | _PAGE_PWT | _PAGE_PCD | _PAGE_PAT;

    if (!(start_info->flags & SIF_PRIVILEGED)) {
        CHECK_EQ(pt_set(h.l1, 7, v), -EINVAL);
        return;
    }
    CHECK_EQ(pt_set(h.l1, 7, v), 0);
    CHECK_EQ(pt_read(h.l1, 7), AS_KERNEL(v));
    CHECK_EQ(pt_set(h.l1, 7, 0), 0);
}

/* A user page (_PAGE_USER given, no bit 52): observed, see the README. */
TEST(l1_user_entry)
{
    uint64_t v = h.data << PAGE_SHIFT | KPAGE | _PAGE_USER;

    CHECK_EQ(pt_set(h.l1, 7, v), 0);
    INFO("L1 user entry %#lx stored as %#lx", v, pt_read(h.l1, 7));
    CHECK_EQ(pt_set(h.l1, 7, 0), 0);
}

TEST(upper_entries_accept_nx_avail)
{
    const uint64_t extra = _PAGE_NX | _PAGE_AVAIL | _PAGE_AVAIL_HIGH;
    const uint64_t t[] = { h.l2, h.l3, h.l4 }, target[] = { h.l1, h.l2, h.l3 };

    for (unsigned int i = 0; i < 3; i++) {
        uint64_t v = target[i] << PAGE_SHIFT | PTE_TABLE | extra;

        CHECKF(pt_set(t[i], 8, v) == 0, "L%u", i + 2);
        CHECK_EQ(pt_read(t[i], 8), v);
        CHECK_EQ(pt_set(t[i], 8, 0), 0);
    }
}

/* Entries without U or A: every level gets U, the L4 also A. */
TEST(upper_entries_adjusted)
{
    const uint64_t t[] = { h.l2, h.l3, h.l4 }, target[] = { h.l1, h.l2, h.l3 };
    const uint64_t add[] = { _PAGE_USER, _PAGE_USER, _PAGE_USER | _PAGE_ACCESSED };

    for (unsigned int i = 0; i < 3; i++) {
        uint64_t v = target[i] << PAGE_SHIFT | _PAGE_PRESENT | _PAGE_RW;

        CHECKF(pt_set(t[i], 9, v) == 0, "L%u", i + 2);
        CHECKF(pt_read(t[i], 9) == (v | add[i]), "L%u: %#lx", i + 2, pt_read(t[i], 9));
        CHECK_EQ(pt_set(t[i], 9, 0), 0);
    }
}

/* ---- frames an entry may not name ---- */

/* Beyond the physical address width: not I/O memory domain 0 may map either. */
TEST(l1_frame_beyond_address_width)
{
    CHECK_EQ(pt_set(h.l1, 10, (1UL << 51) | KPAGE), -EPERM);
    CHECK_EQ(pt_set(h.l1, 10, (1UL << 51) | KPAGE_RW), -EPERM);
    /* All ones: Xen's INVALID_MFN. */
    CHECK_EQ(pt_set(h.l1, 10, 0x000ffffffffff000UL | KPAGE), -EINVAL);
}

TEST(upper_frame_beyond_ram)
{
    long max = max_ram_page();

    INFO("maximum_ram_page %#lx", max);
    CHECK(max > 0);
    CHECK_EQ(pt_set(h.l2, 10, (uint64_t)(max + 16) << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_set(h.l2, 10, (1UL << 51) | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_set(h.l4, 10, (uint64_t)(max + 16) << PAGE_SHIFT | PTE_TABLE), -EINVAL);
}

/* A frame above the last RAM page: I/O memory to Xen, which dom0 may map (observed). */
TEST(l1_frame_beyond_ram)
{
    long max = max_ram_page();
    long rc;

    CHECK(max > 0);
    rc = pt_set(h.l1, 10, (uint64_t)(max + 16) << PAGE_SHIFT | KPAGE);
    INFO("L1 entry for mfn maximum_ram_page + 16: %ld, stored %#lx", rc, pt_read(h.l1, 10));
    CHECK_EQ(pt_set(h.l1, 10, 0), 0);
}

TEST(hypervisor_frame_not_mappable)
{
    uint64_t x = hv_frame();
    long rc;

    CHECK(kl4()[256] & _PAGE_PRESENT);
    CHECK_EQ(pt_set(h.l1, 11, x << PAGE_SHIFT | KPAGE), -EBUSY);
    CHECK_EQ(pt_set(h.l1, 11, x << PAGE_SHIFT | KPAGE_RW), -EBUSY);
    rc = scratch_map(x, 0);
    scratch_restore();
    CHECK_EQ(rc, -EBUSY);
    CHECK_EQ(pt_read(h.l1, 11), 0);
}

TEST(hypervisor_frame_other_uses)
{
    uint64_t x = hv_frame(), f = frame_alloc();
    struct mmu_update u = { .ptr = x << PAGE_SHIFT, .val = 0 };

    CHECK(f);
    CHECK_EQ(pt_set(h.l2, 11, x << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_pin(1, x), -EINVAL);
    CHECK_EQ(pt_pin(3, x), -EINVAL);
    CHECK_EQ(pt_unpin(x), -EINVAL);
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF), -EINVAL);
    CHECK_EQ(machphys(x, 5), -EINVAL);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, x), -EINVAL);
    CHECK_EQ(mmuext2(MMUEXT_COPY_PAGE, f, x), -EINVAL);
    CHECK_EQ(mmuext2(MMUEXT_COPY_PAGE, x, f), -EINVAL);
    CHECK_EQ(mmuext1(MMUEXT_NEW_BASEPTR, x), -EINVAL);
    frame_free(f);
}

/* ---- the hypervisor's L4 slots ---- */

TEST(l4_hypervisor_slots_refused)
{
    for (unsigned int s = 256; s <= 271; s++) {
        long rc = pt_set(h.l4, s, 0);

        CHECKF(rc == -EINVAL, "slot %u: %ld", s, rc);
    }
    CHECK_EQ(pt_set(h.l4, 261, h.l3 << PAGE_SHIFT | PTE_TABLE), -EINVAL);
    CHECK_EQ(pt_set(kernel_l4_mfn(), 260, 0), -EINVAL);
    CHECK_EQ(pt_set(kernel_l4_mfn(), 256, kl4()[256]), -EINVAL);
}

/* What a new L4 holds in slots 256-271 is not looked at, and replaced. */
TEST(l4_hypervisor_slots_replaced)
{
    uint64_t z = frame_alloc();
    static const unsigned int slots[] = { 261, 265, 270 };
    long rc;

    CHECK(z);
    memset(img, 0, sizeof(img));
    for (unsigned int s = 256; s <= 271; s++)
        img[s] = h.data << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(z), 0);
    CHECK_EQ(pt_pin(4, z), 0);
    for (unsigned int i = 0; i < ARRAY_SIZE(slots); i++) {
        uint64_t e = pt_read(z, slots[i]);

        CHECKF(e == kl4()[slots[i]], "slot %u: %#lx, kernel's %#lx", slots[i], e,
               kl4()[slots[i]]);
    }
    INFO("new L4 slot 256 (M2P) before any use as base pointer: %#lx", pt_read(z, 256));
    rc = pt_unpin(z);
    CHECK_EQ(rc, 0);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, z), 0);
    frame_free(z);
}

/* ---- batches ---- */

TEST(mmu_update_batch_fails_half_way)
{
    uint64_t base = h.l1 << PAGE_SHIFT;
    struct mmu_update u[4] = {
        { base + 20 * 8, h.data << PAGE_SHIFT | KPAGE },
        { base + 21 * 8, h.data << PAGE_SHIFT | KPAGE },
        { base + 22 * 8, h.l2 << PAGE_SHIFT | KPAGE_RW },    /* a table, writable */
        { base + 23 * 8, h.data << PAGE_SHIFT | KPAGE },
    };
    unsigned int done = 0x55;

    CHECK_EQ(HYPERVISOR_mmu_update(u, 4, &done, DOMID_SELF), -EBUSY);
    CHECK_EQ(done, 2);
    CHECK_EQ(pt_read(h.l1, 20), AS_KERNEL(u[0].val));
    CHECK_EQ(pt_read(h.l1, 21), AS_KERNEL(u[1].val));
    CHECK_EQ(pt_read(h.l1, 22), 0);
    CHECK_EQ(pt_read(h.l1, 23), 0);
    CHECK_EQ(pt_set(h.l1, 20, 0), 0);
    CHECK_EQ(pt_set(h.l1, 21, 0), 0);
}

TEST(mmuext_batch_fails_half_way)
{
    uint64_t a = frame_alloc(), b = frame_alloc();
    struct mmuext_op op[4] = {
        { .cmd = MMUEXT_PIN_L1_TABLE }, { .cmd = MMUEXT_PIN_L1_TABLE },
        { .cmd = MMUEXT_PIN_L1_TABLE }, { .cmd = 99 },
    };
    unsigned int done = 0x55;

    CHECK(a && b);
    op[0].arg1.mfn = a;
    op[1].arg1.mfn = a;     /* pinned already */
    op[2].arg1.mfn = b;
    CHECK_EQ(HYPERVISOR_mmuext_op(op, 3, &done, DOMID_SELF), -EINVAL);
    CHECK_EQ(done, 1);
    CHECK_EQ(pt_unpin(b), -EINVAL);
    CHECK_EQ(pt_unpin(a), 0);
    /* An unknown command in the middle. */
    op[1].cmd = MMUEXT_UNPIN_TABLE;
    op[2].cmd = 99;
    done = 0x55;
    CHECK_EQ(HYPERVISOR_mmuext_op(op, 4, &done, DOMID_SELF), -ENOSYS);
    CHECK_EQ(done, 2);
    CHECK_EQ(pt_unpin(a), -EINVAL);
    frame_free(a);
    frame_free(b);
}

/*
 * A list pointer in the hypervisor's range (or not canonical) is refused before
 * anything runs, and done is not written; a list that merely faults writes done.
 */
TEST(batch_list_not_guest_address)
{
    static const ulong bad[] = { HV_ADDR, NONCANON };
    unsigned int done;

    for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
        done = 0x55;
        CHECK_EQ(HYPERVISOR_mmu_update((void *)bad[i], 1, &done, DOMID_SELF), -EFAULT);
        CHECK_EQ(done, 0x55);
        CHECK_EQ(HYPERVISOR_mmu_update((void *)bad[i], 0, &done, DOMID_SELF), -EFAULT);
        CHECK_EQ(done, 0x55);
        CHECK_EQ(HYPERVISOR_mmuext_op((void *)bad[i], 1, &done, DOMID_SELF), -EFAULT);
        CHECK_EQ(done, 0x55);
    }
    done = 0x55;
    CHECK_EQ(HYPERVISOR_mmu_update((void *)UNMAPPED, 1, &done, DOMID_SELF), -EFAULT);
    CHECK_EQ(done, 0);
    done = 0x55;
    CHECK_EQ(HYPERVISOR_mmuext_op((void *)UNMAPPED, 1, &done, DOMID_SELF), -EFAULT);
    CHECK_EQ(done, 0);
}

/* The command is in the low 3 bits of ptr: 3 (NO_TRANSLATE) updates, 4-7 do not exist. */
TEST(mmu_update_cmd_bits)
{
    uint64_t v = h.data << PAGE_SHIFT | KPAGE;

    CHECK_EQ(pt_update_cmd(h.l1, 24, v, MMU_PT_UPDATE_NO_TRANSLATE), 0);
    CHECK_EQ(pt_read(h.l1, 24), AS_KERNEL(v));
    for (unsigned int cmd = 4; cmd < 8; cmd++) {
        long rc = pt_update_cmd(h.l1, 24, 0, cmd);

        CHECKF(rc == -ENOSYS, "cmd %u: %ld", cmd, rc);
    }
    CHECK_EQ(pt_read(h.l1, 24), AS_KERNEL(v));
    CHECK_EQ(pt_set(h.l1, 24, 0), 0);
}

/* A frame that is no table in use is plain memory: the value is written unchecked. */
TEST(mmu_update_plain_memory)
{
    uint64_t f = frame_alloc();
    const uint64_t junk = 0x000ffffffffff0ffUL; /* as an entry: present, every flag */

    CHECK(f);
    CHECK_EQ(pt_set(f, 3, junk), 0);
    CHECK_EQ(pt_update_cmd(f, 4, junk, MMU_PT_UPDATE_PRESERVE_AD), 0);
    CHECK_EQ(pt_read(f, 3), junk);
    CHECK_EQ(pt_read(f, 4), junk);
    CHECK_EQ(pt_pin(1, f), -EINVAL);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, f), 0);
    frame_free(f);
}

/* ---- MMU_PT_UPDATE_PRESERVE_AD ---- */

TEST(preserve_ad)
{
    uint64_t v = h.data << PAGE_SHIFT | _PAGE_PRESENT;
    uint64_t other = h.l2 << PAGE_SHIFT | _PAGE_PRESENT;
    const uint64_t ad = _PAGE_ACCESSED | _PAGE_DIRTY;

    CHECK_EQ(pt_set(h.l1, 25, v | ad), 0);
    CHECK_EQ(pt_update_cmd(h.l1, 25, v, MMU_PT_UPDATE_PRESERVE_AD), 0);
    CHECK_EQ(pt_read(h.l1, 25), AS_KERNEL(v | ad));
    /* Kept even when the entry names another frame. */
    CHECK_EQ(pt_update_cmd(h.l1, 25, other, MMU_PT_UPDATE_PRESERVE_AD), 0);
    CHECK_EQ(pt_read(h.l1, 25), AS_KERNEL(other | ad));
    /* A normal update does not keep them. */
    CHECK_EQ(pt_set(h.l1, 25, v), 0);
    CHECK_EQ(pt_read(h.l1, 25), AS_KERNEL(v));
    CHECK_EQ(pt_set(h.l1, 25, 0), 0);
}

/* Even a not-present entry gets the old A/D bits. */
TEST(preserve_ad_not_present)
{
    const uint64_t ad = _PAGE_ACCESSED | _PAGE_DIRTY;

    CHECK_EQ(pt_set(h.l1, 26, h.data << PAGE_SHIFT | _PAGE_PRESENT | ad), 0);
    CHECK_EQ(pt_update_cmd(h.l1, 26, 0, MMU_PT_UPDATE_PRESERVE_AD), 0);
    CHECK_EQ(pt_read(h.l1, 26), ad);
    CHECK_EQ(pt_set(h.l1, 26, 0), 0);
    CHECK_EQ(pt_read(h.l1, 26), 0);
}

TEST(preserve_ad_upper_level)
{
    const uint64_t ad = _PAGE_ACCESSED | _PAGE_DIRTY;
    uint64_t v = h.l1 << PAGE_SHIFT | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;

    CHECK_EQ(pt_set(h.l2, 26, v | ad), 0);
    CHECK_EQ(pt_update_cmd(h.l2, 26, v, MMU_PT_UPDATE_PRESERVE_AD), 0);
    CHECK_EQ(pt_read(h.l2, 26), v | ad);
    CHECK_EQ(pt_set(h.l2, 26, 0), 0);
}

/* ---- MMU_MACHPHYS_UPDATE ---- */

TEST(machphys_update)
{
    uint64_t f = frame_alloc(), old;

    CHECK(f);
    old = M2P[f];
    CHECK_EQ(machphys(f, 0x12345), 0);
    CHECK_EQ(M2P[f], 0x12345);
    CHECK_EQ(machphys(f, old), 0);
    CHECK_EQ(M2P[f], old);
    frame_free(f);
}

TEST(machphys_update_not_owned)
{
    long max = max_ram_page();

    CHECK(max > 0);
    CHECK_EQ(machphys(hv_frame(), 1), -EINVAL);
    CHECK_EQ(machphys((uint64_t)max + 16, 1), -EINVAL);
    CHECK_EQ(machphys(1UL << 39, 1), -EINVAL);
}

/* ---- update_va_mapping and the flush operations ---- */

static uint64_t fa, fb;
static unsigned long vcpu0_mask = 1;

TEST(tlb_frames)
{
    fa = frame_alloc();
    fb = frame_alloc();
    CHECK(fa && fb);
    memset(img, 0, sizeof(img));
    img[0] = MAGIC_A;
    CHECK_EQ(fill_frame(fa), 0);
    img[0] = MAGIC_B;
    CHECK_EQ(fill_frame(fb), 0);
}

static uint64_t magic_of(uint64_t mfn)
{
    return mfn == fa ? MAGIC_A : MAGIC_B;
}

TEST(uvm_flush_flags)
{
    const ulong flags[] = {
        UVMF_INVLPG | UVMF_LOCAL, UVMF_TLB_FLUSH | UVMF_LOCAL,
        UVMF_INVLPG | UVMF_ALL, UVMF_TLB_FLUSH | UVMF_ALL,
        UVMF_INVLPG | UVMF_MULTI | (ulong)&vcpu0_mask,
        UVMF_TLB_FLUSH | UVMF_MULTI | (ulong)&vcpu0_mask,
    };
    unsigned int bad = ~0U;
    long rc = 0;
    uint64_t seen = 0;

    CHECK(fa && fb);
    for (unsigned int i = 0; i < ARRAY_SIZE(flags) && bad == ~0U; i++) {
        uint64_t f = i & 1 ? fa : fb;

        (void)scratch_word();
        rc = HYPERVISOR_update_va_mapping((ulong)scratch_page, f << PAGE_SHIFT | KPAGE,
                                          flags[i]);
        seen = scratch_word();
        if (rc || seen != magic_of(f))
            bad = i;
    }
    scratch_restore();
    CHECKF(bad == ~0U, "flags %#lx: rc %ld, read %#lx", flags[bad], rc, seen);
}

/* No flush asked (type 0, or 3 which is none of them): the call succeeds. */
TEST(uvm_no_flush)
{
    long rc0, rc3;
    uint64_t seen0, seen3;

    CHECK(fa && fb);
    CHECK_EQ(scratch_map(fa, 0), 0);
    (void)scratch_word();
    rc0 = HYPERVISOR_update_va_mapping((ulong)scratch_page, fb << PAGE_SHIFT | KPAGE, UVMF_NONE);
    seen0 = scratch_word();
    rc3 = HYPERVISOR_update_va_mapping((ulong)scratch_page, fa << PAGE_SHIFT | KPAGE,
                                       UVMF_FLUSHTYPE_MASK | UVMF_ALL);
    seen3 = scratch_word();
    mmuext1(MMUEXT_INVLPG_LOCAL, (ulong)scratch_page);
    CHECK_EQ(scratch_word(), MAGIC_A);
    scratch_restore();
    INFO("without a flush: read %s, then %s", seen0 == MAGIC_B ? "new" : "stale",
         seen3 == MAGIC_A ? "new" : "stale");
    CHECK_EQ(rc0, 0);
    CHECK_EQ(rc3, 0);
}

/* A vCPU bitmap that cannot be read: the entry is changed, then -EFAULT. */
TEST(uvm_bad_vcpumask)
{
    static const ulong bad[] = { UNMAPPED, HV_ADDR, NONCANON };
    long rc[ARRAY_SIZE(bad)], rc_none;
    uint64_t seen[ARRAY_SIZE(bad)];

    CHECK(fa && fb);
    for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
        uint64_t f = i & 1 ? fa : fb;

        rc[i] = HYPERVISOR_update_va_mapping((ulong)scratch_page, f << PAGE_SHIFT | KPAGE,
                                             bad[i] | (i & 1 ? UVMF_TLB_FLUSH : UVMF_INVLPG));
        mmuext1(MMUEXT_INVLPG_LOCAL, (ulong)scratch_page);
        seen[i] = scratch_word() == magic_of(f);
    }
    /* Without a flush the bitmap is not looked at. */
    rc_none = HYPERVISOR_update_va_mapping((ulong)scratch_page, fa << PAGE_SHIFT | KPAGE,
                                           UNMAPPED | UVMF_NONE);
    scratch_restore();
    for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECKF(rc[i] == -EFAULT, "bitmap %#lx: %ld", bad[i], rc[i]);
        CHECKF(seen[i], "bitmap %#lx: mapping not changed", bad[i]);
    }
    CHECK_EQ(rc_none, 0);
}

/*
 * Each flush operation after an mmu_update of scratch_page's L1 entry (which flushes
 * nothing): afterwards scratch_page reads the new frame.
 */
TEST(mmuext_flushes)
{
    struct {
        unsigned int cmd;
        uint64_t arg1, arg2;
    } ops[] = {
        { MMUEXT_TLB_FLUSH_LOCAL, 0, 0 },
        { MMUEXT_INVLPG_LOCAL, (ulong)scratch_page, 0 },
        { MMUEXT_TLB_FLUSH_MULTI, 0, (ulong)&vcpu0_mask },
        { MMUEXT_INVLPG_MULTI, (ulong)scratch_page, (ulong)&vcpu0_mask },
        { MMUEXT_TLB_FLUSH_ALL, 0, 0 },
        { MMUEXT_INVLPG_ALL, (ulong)scratch_page, 0 },
    };
    struct mmu_update u = { .ptr = boot_l1_slot((ulong)scratch_page) };
    unsigned int bad = ~0U, stale = 0;
    long rc = 0;
    uint64_t seen = 0;

    CHECK(fa && fb);
    CHECK(u.ptr);
    for (unsigned int i = 0; i < ARRAY_SIZE(ops) && bad == ~0U; i++) {
        uint64_t f = i & 1 ? fa : fb;

        (void)scratch_word();
        u.val = f << PAGE_SHIFT | KPAGE;
        rc = HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
        stale += scratch_word() != magic_of(f);
        if (!rc)
            rc = mmuext2(ops[i].cmd, ops[i].arg1, ops[i].arg2);
        seen = scratch_word();
        if (rc || seen != magic_of(f))
            bad = i;
    }
    scratch_restore();
    CHECKF(bad == ~0U, "cmd %u: rc %ld, read %#lx", ops[bad].cmd, rc, seen);
    INFO("stale reads before the flush: %u of %zu", stale, ARRAY_SIZE(ops));
}

TEST(mmuext_multi_bad_vcpumask)
{
    static const ulong bad[] = { 0, UNMAPPED, HV_ADDR, NONCANON };

    for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
        long r1 = mmuext2(MMUEXT_TLB_FLUSH_MULTI, 0, bad[i]);
        long r2 = mmuext2(MMUEXT_INVLPG_MULTI, (ulong)scratch_page, bad[i]);

        CHECKF(r1 == -EINVAL && r2 == -EINVAL, "bitmap %#lx: %ld %ld", bad[i], r1, r2);
    }
}

/* Addresses an INVLPG cannot be about are simply not flushed. */
TEST(mmuext_invlpg_odd_addresses)
{
    CHECK_EQ(mmuext1(MMUEXT_INVLPG_LOCAL, NONCANON), 0);
    CHECK_EQ(mmuext1(MMUEXT_INVLPG_LOCAL, HV_ADDR), 0);
    CHECK_EQ(mmuext1(MMUEXT_INVLPG_ALL, NONCANON), 0);
    CHECK_EQ(mmuext2(MMUEXT_INVLPG_MULTI, NONCANON, (ulong)&vcpu0_mask), 0);
}

/* ---- copy and clear ---- */

TEST(clear_and_copy_page)
{
    uint64_t src = frame_alloc(), dst = frame_alloc();

    CHECK(src && dst);
    for (unsigned int i = 0; i < 512; i++)
        img[i] = 0x0123456789abcdefUL ^ i;
    CHECK_EQ(fill_frame(src), 0);
    CHECK_EQ(mmuext2(MMUEXT_COPY_PAGE, dst, src), 0);
    CHECK_EQ(pt_read(dst, 0), img[0]);
    CHECK_EQ(pt_read(dst, 511), img[511]);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, src), 0);
    CHECK_EQ(pt_read(src, 0), 0);
    CHECK_EQ(pt_read(src, 511), 0);
    /* A frame mapped writable can be cleared too (it is writable memory). */
    CHECK_EQ(scratch_map(dst, _PAGE_RW | _PAGE_DIRTY), 0);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, dst), 0);
    CHECK_EQ(scratch_word(), 0);
    scratch_restore();
    frame_free(src);
    frame_free(dst);
}

TEST(clear_and_copy_page_table)
{
    uint64_t f = frame_alloc();

    CHECK(f);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, h.l1), -EINVAL);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, h.l4), -EINVAL);
    CHECK_EQ(mmuext2(MMUEXT_COPY_PAGE, h.l1, f), -EINVAL);
    CHECK_EQ(pt_read(h.l1, 0), AS_KERNEL(h.data << PAGE_SHIFT | KPAGE_RW));
    /* Reading a table is fine. */
    CHECK_EQ(mmuext2(MMUEXT_COPY_PAGE, f, h.l1), 0);
    CHECK_EQ(pt_read(f, 0), pt_read(h.l1, 0));
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, f), 0);
    frame_free(f);
}

/* ---- the private L4 as base pointer ---- */

struct on_l4 {
    long rc_switch, rc_back, rc_hc, rc_unpin;
    bool trapped, writable;
    uint64_t priv, cr3, m2p;
};

static void read_priv(void *arg)
{
    struct on_l4 *o = arg;

    o->priv = *(volatile uint64_t *)PRIV_VA;
    o->m2p = M2P[kernel_l4_mfn()];
}

/* Switches to h.l4, looks around, optionally unpins it there, and switches back. */
static void visit_private_l4(struct on_l4 *o, bool unpin)
{
    struct trap_record r;

    memset(o, 0, sizeof(*o));
    o->rc_switch = mmuext1(MMUEXT_NEW_BASEPTR, h.l4);
    if (o->rc_switch)
        return;
    o->cr3 = read_cr3();
    o->trapped = catch_trap(read_priv, o, &r);
    o->rc_hc = HYPERVISOR_xen_version(XENVER_version, NULL);
    if (unpin) {
        o->rc_unpin = pt_unpin(h.l4);
        o->writable = frame_writable(h.l4);
    }
    o->rc_back = mmuext1(MMUEXT_NEW_BASEPTR, kernel_l4_mfn());
}

TEST(new_baseptr_private_l4)
{
    struct on_l4 o;

    CHECK(h_built);
    visit_private_l4(&o, false);
    CHECK_EQ(o.rc_switch, 0);
    CHECK_EQ(o.rc_back, 0);
    CHECK_EQ(o.cr3, h.l4 << PAGE_SHIFT);
    CHECK(!o.trapped);
    CHECK_EQ(o.priv, DATA_MAGIC);
    CHECK_EQ(o.m2p, (start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT);
    CHECK_EQ(o.rc_hc, (4 << 16) | 17);
    CHECK_EQ(read_cr3(), kernel_l4_mfn() << PAGE_SHIFT);
    INFO("L4 slot 256 after use as base pointer: %s",
         pt_read(h.l4, 256) & _PAGE_PRESENT ? "present" : "empty");
}

TEST(new_baseptr_not_l4)
{
    uint64_t f = frame_alloc();
    long rc;

    CHECK(f);
    CHECK_EQ(mmuext1(MMUEXT_NEW_BASEPTR, h.l3), -EINVAL);
    CHECK_EQ(mmuext1(MMUEXT_NEW_USER_BASEPTR, h.l3), -EINVAL);
    CHECK_EQ(mmuext1(MMUEXT_NEW_BASEPTR, (uint64_t)max_ram_page() + 16), -EINVAL);
    CHECK_EQ(scratch_map(f, _PAGE_RW | _PAGE_DIRTY), 0);
    rc = mmuext1(MMUEXT_NEW_BASEPTR, f);
    scratch_restore();
    CHECK_EQ(rc, -EINVAL);
    CHECK_EQ(read_cr3(), kernel_l4_mfn() << PAGE_SHIFT);
    frame_free(f);
}

/* Unpinned while it is the base pointer: still an L4 until the switch back. */
TEST(unpin_current_base)
{
    struct on_l4 o;

    CHECK(h_built);
    visit_private_l4(&o, true);
    CHECK_EQ(o.rc_switch, 0);
    CHECK_EQ(o.rc_back, 0);
    CHECK_EQ(o.rc_unpin, 0);
    CHECK(!o.writable);
    CHECK(frame_writable(h.l4));
    CHECK(!frame_writable(h.l3));
    CHECK_EQ(pt_unpin(h.l4), -EINVAL);
}

TEST(unpin_referenced_table)
{
    CHECK_EQ(pt_unpin(h.l1), 0);
    CHECK(!frame_writable(h.l1));     /* h.l2 still names it */
    CHECK_EQ(pt_pin(2, h.l1), -EINVAL);
    CHECK_EQ(pt_unpin(h.l1), -EINVAL);
    CHECK_EQ(pt_pin(1, h.l1), 0);     /* and it can be pinned again */
    CHECK_EQ(pt_unpin(h.l1), 0);
}

TEST(last_reference_releases_types)
{
    CHECK_EQ(pt_unpin(h.l3), 0);
    CHECK(frame_writable(h.l3));
    CHECK(!frame_writable(h.l2));
    CHECK(!frame_writable(h.l1));
    CHECK_EQ(pt_pin(1, h.data), -EINVAL); /* h.l1 maps it writable */
    CHECK_EQ(pt_unpin(h.l2), 0);
    CHECK(frame_writable(h.l2));
    CHECK(frame_writable(h.l1));
    CHECK_EQ(pt_pin(1, h.data), 0);
    CHECK_EQ(pt_unpin(h.data), 0);
}

/* ---- validation failures ---- */

/* An L1 whose entry 1 maps a table writable; entry 0 maps d writable. */
static long bad_l1(uint64_t a, uint64_t d, uint64_t table)
{
    memset(img, 0, sizeof(img));
    img[0] = d << PAGE_SHIFT | KPAGE_RW;
    img[1] = table << PAGE_SHIFT | KPAGE_RW;
    return fill_frame(a);
}

TEST(failed_pin_releases_references)
{
    uint64_t a = frame_alloc(), d = frame_alloc(), t = frame_alloc();

    CHECK(a && d && t);
    CHECK_EQ(pt_pin(2, t), 0);
    CHECK_EQ(bad_l1(a, d, t), 0);
    CHECK_EQ(pt_pin(1, a), -EBUSY);
    /* The writable reference entry 0 took is gone again, and a has no type. */
    CHECK_EQ(pt_pin(1, d), 0);
    CHECK_EQ(pt_unpin(d), 0);
    CHECK(frame_writable(a));
    CHECK_EQ(pt_unpin(t), 0);
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, a), 0);
    frame_free(a);
    frame_free(d);
    frame_free(t);
}

/* The L1's error comes back through every level, from pin and from NEW_BASEPTR. */
TEST(validation_error_propagates)
{
    uint64_t l4 = frame_alloc(), l3 = frame_alloc(), l2 = frame_alloc();
    uint64_t a = frame_alloc(), d = frame_alloc(), t = frame_alloc();
    const uint64_t all[] = { l4, l3, l2, a, d };

    CHECK(l4 && l3 && l2 && a && d && t);
    CHECK_EQ(pt_pin(2, t), 0);
    CHECK_EQ(bad_l1(a, d, t), 0);
    memset(img, 0, sizeof(img));
    img[0] = a << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(l2), 0);
    img[0] = l2 << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(l3), 0);
    for (unsigned int i = 0; i < 512; i++)
        img[i] = guest_l4_slot(i) ? kl4()[i] : 0;
    img[1] = l3 << PAGE_SHIFT | PTE_TABLE;
    CHECK_EQ(fill_frame(l4), 0);
    CHECK_EQ(pt_pin(2, l2), -EBUSY);
    CHECK_EQ(pt_pin(4, l4), -EBUSY);
    CHECK_EQ(mmuext1(MMUEXT_NEW_BASEPTR, l4), -EBUSY);
    CHECK_EQ(mmuext1(MMUEXT_NEW_USER_BASEPTR, l4), -EBUSY);
    CHECK_EQ(read_cr3(), kernel_l4_mfn() << PAGE_SHIFT);
    for (unsigned int i = 0; i < ARRAY_SIZE(all); i++)
        CHECKF(frame_writable(all[i]), "frame %u keeps a type", i);
    CHECK_EQ(pt_unpin(t), 0);
    for (unsigned int i = 0; i < ARRAY_SIZE(all); i++) {
        CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, all[i]), 0);
        frame_free(all[i]);
    }
    frame_free(t);
}

/* ---- soak ---- */

#define SOAK_RING 201   /* not a multiple of 5: every frame plays every role */
#define SOAK_LIVE 4
#define SOAK_ITERS 3000

static uint64_t ring[SOAK_RING];

/*
 * Each iteration takes the next five frames of the ring as L4, L3, L2, L1 and data:
 * one mmuext_op batch unpins the hierarchy of SOAK_LIVE iterations ago and clears the
 * five frames, one mmu_update batch fills their entries (the L1 maps the data page
 * writable and a shared page read-only, the L2 also names a shared pinned L1), and the
 * L4 is pinned.
 * Afterwards no frame may keep a type.
 */
TEST(soak)
{
    uint64_t shared_l1 = frame_alloc(), shared_page = frame_alloc();
    uint64_t live[SOAK_LIVE] = { 0 };
    unsigned int n = 0;

    CHECK(shared_l1 && shared_page);
    for (n = 0; n < SOAK_RING; n++) {
        ring[n] = frame_alloc();
        CHECK(ring[n]);
    }
    memset(img, 0, sizeof(img));
    img[5] = shared_page << PAGE_SHIFT | KPAGE;
    CHECK_EQ(fill_frame(shared_l1), 0);
    CHECK_EQ(pt_pin(1, shared_l1), 0);

    for (unsigned int i = 0; i < SOAK_ITERS; i++) {
        uint64_t f[5];
        struct mmuext_op ext[6], pin = { .cmd = MMUEXT_PIN_L4_TABLE };
        struct mmu_update upd[6];
        long rc[3];
        unsigned int ne = 0, i4 = i % 256, i3 = (i * 7) % 512, i2 = (i * 13) % 511,
                     i1 = (i * 29) % 511;

        for (unsigned int k = 0; k < 5; k++)
            f[k] = ring[(i * 5 + k) % SOAK_RING];
        if (live[i % SOAK_LIVE]) {
            ext[ne] = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE };
            ext[ne++].arg1.mfn = live[i % SOAK_LIVE];
        }
        for (unsigned int k = 0; k < 5; k++) {
            ext[ne] = (struct mmuext_op){ .cmd = MMUEXT_CLEAR_PAGE };
            ext[ne++].arg1.mfn = f[k];
        }
        upd[0] = (struct mmu_update){ (f[3] << PAGE_SHIFT) + i1 * 8,
                                      f[4] << PAGE_SHIFT | KPAGE_RW };
        upd[1] = (struct mmu_update){ (f[3] << PAGE_SHIFT) + (i1 + 1) * 8,
                                      shared_page << PAGE_SHIFT | KPAGE };
        upd[2] = (struct mmu_update){ (f[2] << PAGE_SHIFT) + i2 * 8,
                                      f[3] << PAGE_SHIFT | PTE_TABLE };
        upd[3] = (struct mmu_update){ (f[2] << PAGE_SHIFT) + (i2 + 1) * 8,
                                      shared_l1 << PAGE_SHIFT | PTE_TABLE };
        upd[4] = (struct mmu_update){ (f[1] << PAGE_SHIFT) + i3 * 8,
                                      f[2] << PAGE_SHIFT | PTE_TABLE };
        upd[5] = (struct mmu_update){ (f[0] << PAGE_SHIFT) + i4 * 8,
                                      f[1] << PAGE_SHIFT | PTE_TABLE };
        pin.arg1.mfn = f[0];
        rc[0] = HYPERVISOR_mmuext_op(ext, ne, NULL, DOMID_SELF);
        rc[1] = rc[0] ? 0 : HYPERVISOR_mmu_update(upd, ARRAY_SIZE(upd), NULL, DOMID_SELF);
        rc[2] = rc[0] || rc[1] ? 0 : HYPERVISOR_mmuext_op(&pin, 1, NULL, DOMID_SELF);
        CHECKF(!rc[0] && !rc[1] && !rc[2], "iteration %u: %ld %ld %ld", i, rc[0], rc[1], rc[2]);
        live[i % SOAK_LIVE] = f[0];
        if (i % 512 == 0) {
            CHECKF(!frame_writable(f[3]), "iteration %u: L1 writable", i);
            CHECKF(pt_pin(1, f[4]) == -EINVAL, "iteration %u: data pinnable", i);
        }
    }
    for (unsigned int k = 0; k < SOAK_LIVE; k++)
        if (live[k])
            CHECK_EQ(pt_unpin(live[k]), 0);
    CHECK(!frame_writable(shared_l1));
    CHECK_EQ(pt_unpin(shared_l1), 0);
    for (n = 0; n < SOAK_RING; n++)
        CHECKF(frame_writable(ring[n]), "ring frame %u keeps a type", n);
    CHECK(frame_writable(shared_l1));
    CHECK(frame_writable(shared_page));
    CHECK_EQ(pt_pin(1, shared_page), 0);
    CHECK_EQ(pt_unpin(shared_page), 0);
    for (n = 0; n < SOAK_RING; n++) {
        CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, ring[n]), 0);
        frame_free(ring[n]);
    }
    INFO("%u hierarchies built and torn down", SOAK_ITERS);
}

/* ---- naming another domain (foreigndom): the rules an ordinary guest meets ---- */

static long mmu_update_as(uint64_t ptr, uint64_t val, unsigned int foreigndom)
{
    struct mmu_update u = { .ptr = ptr, .val = val };
    unsigned int done = 0;

    /* Raw: the library's wrapper takes a 16-bit domid, and bits 16-31 matter here. */
    return hypercall(__HYPERVISOR_mmu_update, (ulong)&u, 1, (ulong)&done, foreigndom, 0);
}

static long uvm_otherdomain(ulong va, uint64_t pte, ulong flags, unsigned int dom)
{
    return hypercall(__HYPERVISOR_update_va_mapping_otherdomain, va, pte, flags, dom, 0);
}

TEST(foreign_domain_unknown_or_self_refused)
{
    uint64_t slot = boot_l1_slot((ulong)scratch_page);
    uint64_t pte = (image_mfn(scratch_page) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
    struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };

    CHECK(slot);
    /* A domain that does not exist, as frame owner or (bits 16-31) as table owner. */
    CHECK_EQ(mmu_update_as(slot, pte, 0x7000), -ESRCH);
    CHECK_EQ(mmu_update_as(slot, pte, (0x7001U << 16) | DOMID_SELF), -ESRCH);
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, 0x7000), -ESRCH);
    CHECK_EQ(uvm_otherdomain((ulong)scratch_page, pte, UVMF_INVLPG, 0x7000), -ESRCH);
    /* DOMID_SELF is the caller itself; its own id, given explicitly, is refused. */
    CHECK_EQ(mmu_update_as(slot, pte, DOMID_SELF), 0);
    CHECK_EQ(uvm_otherdomain((ulong)scratch_page, pte, UVMF_INVLPG, DOMID_SELF), 0);
    if (!(start_info->flags & SIF_INITDOMAIN))
        return; /* our id is known only as domain 0 */
    CHECK_EQ(mmu_update_as(slot, pte, 0), -ESRCH);
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, 0), -ESRCH);
    CHECK_EQ(uvm_otherdomain((ulong)scratch_page, pte, UVMF_INVLPG, 0), -ESRCH);
    /* Table owner "domain 0 + 1" is ourselves: allowed. */
    CHECK_EQ(mmu_update_as(slot, pte, (1U << 16) | DOMID_SELF), 0);
}

TEST(foreign_domain_needs_privilege)
{
    uint64_t slot = boot_l1_slot((ulong)scratch_page);
    uint64_t pte = (image_mfn(scratch_page) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
    struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };

    domid_t dom0 = 0;

    if (start_info->flags & SIF_PRIVILEGED)
        SKIP("privileged: may name other domains");
    /* Domain 0, if it is still there (an unprivileged query of it says -EPERM). */
    if (HYPERVISOR_memory_op(XENMEM_current_reservation, &dom0) != -EPERM)
        SKIP("domain 0 has gone");
    CHECK_EQ(mmu_update_as(slot, pte, 0), -EPERM);
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, 0), -EPERM);
    CHECK_EQ(uvm_otherdomain((ulong)scratch_page, pte, UVMF_INVLPG, 0), -EPERM);
    /* Nothing to do, nothing checked: Xen checks per request. */
    CHECK_EQ(HYPERVISOR_mmu_update(NULL, 0, NULL, 0), 0);
}

/*
 * A multicall whose mmu_update is long enough to be preempted (a timer tick lands in
 * it under QEMU): however often it is continued, the entry's result is 0 and done
 * counts every request; -ERESTART never reaches the guest.
 */
TEST(multicall_long_mmu_update)
{
    enum { N = 30000 };
    static struct mmu_update req[N];
    uint64_t l1 = frame_alloc(), data = frame_alloc();
    struct multicall_entry mc = { .op = __HYPERVISOR_mmu_update };
    unsigned int done = 0;

    CHECK(l1 && data);
    CHECK_EQ(pt_pin(1, l1), 0);
    for (unsigned int i = 0; i < N; i++) {
        req[i].ptr = (l1 << PAGE_SHIFT) + (i % 512) * 8;
        req[i].val = i & 1 ? 0 : data << PAGE_SHIFT | KPAGE;
    }
    mc.args[0] = (ulong)req;
    mc.args[1] = N;
    mc.args[2] = (ulong)&done;
    mc.args[3] = DOMID_SELF;
    CHECK_EQ(HYPERVISOR_multicall(&mc, 1), 0);
    CHECK_EQ((long)mc.result, 0);
    CHECK_EQ(done, N);
    /* The last write to each slot wins: slots written last at an even i map data. */
    CHECK_EQ(pt_read(l1, (N - 1) % 512), 0);
    CHECK_EQ(pt_read(l1, (N - 2) % 512) >> PAGE_SHIFT & 0xffffffffffUL, data);
    CHECK_EQ(pt_unpin(l1), 0);
    frame_free(l1);
}

/* Domain 0 holds the machine's devices, so it may write back caches, here or on every
 * CPU. A domain without devices gets -EACCES and -EINVAL (Xen's do_mmuext_op; checked
 * when domain_tests.py runs this kernel as a domU). */
TEST(flush_cache)
{
    bool dom0 = start_info->flags & SIF_PRIVILEGED;

    CHECK_EQ(mmuext1(MMUEXT_FLUSH_CACHE, 0), dom0 ? 0 : -EACCES);
    CHECK_EQ(mmuext1(MMUEXT_FLUSH_CACHE_GLOBAL, 0), dom0 ? 0 : -EINVAL);
}

/* PV superpage marking no longer exists; a command past the last is unknown. */
TEST(mark_super_unsupported)
{
    CHECK_EQ(mmuext1(MMUEXT_MARK_SUPER, image_mfn(scratch_page)), -EOPNOTSUPP);
    CHECK_EQ(mmuext1(MMUEXT_UNMARK_SUPER, image_mfn(scratch_page)), -EOPNOTSUPP);
    CHECK_EQ(mmuext1(21, 0), -ENOSYS);
}
