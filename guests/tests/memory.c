/*
 * memory_op as a PV balloon driver uses it: giving frames back, getting new ones,
 * exchanging them, and what the hypervisor reports about the domain's memory. The
 * frames come from the spare pool (unmapped frames above the bootstrap region).
 */
#include <guest/test.h>
#include <guest/frames.h>

#define M2P_INVALID (~0UL)

static long reservation(unsigned int op, xen_pfn_t *list, unsigned long nr,
                        unsigned int order, unsigned int flags, domid_t dom)
{
    struct xen_memory_reservation r = {
        .nr_extents = nr, .extent_order = order, .mem_flags = flags, .domid = dom,
    };

    enso_set_guest_handle(r.extent_start, list);
    return HYPERVISOR_memory_op(op, &r);
}

static long tot_pages(void)
{
    domid_t self = DOMID_SELF;

    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static ulong scratch(void)
{
    return (ulong)scratch_page;
}

/* Put scratch_page's own frame back under it. */
static void restore_scratch(void)
{
    map_mfn(scratch(), pfn_to_mfn((scratch() - GUEST_VIRT_BASE) >> PAGE_SHIFT),
            _PAGE_PRESENT | _PAGE_RW);
}

static long map_at_scratch(uint64_t mfn, uint64_t flags)
{
    return map_mfn(scratch(), mfn, _PAGE_PRESENT | flags);
}

TEST(reservation_queries)
{
    domid_t self = DOMID_SELF, missing = 0x7000;
    long cur = tot_pages();
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);

    INFO("current %ld, maximum %ld, nr_pages %lu", cur, max, start_info->nr_pages);
    CHECK(cur >= (long)start_info->nr_pages);
    CHECK(max >= cur);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &missing), -ESRCH);
    /* Only the reservation calls may carry a continuation count in the command. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation | (1 << 6), &self), -EINVAL);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_ram_page | (1 << 6), NULL), -EINVAL);
}

TEST(maximum_gpfn_follows_shared_info)
{
    domid_t self = DOMID_SELF;
    uint64_t saved = shared_info->arch.max_pfn;

    shared_info->arch.max_pfn = 1234;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &self), 1233);
    shared_info->arch.max_pfn = 0;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &self), 0);
    shared_info->arch.max_pfn = saved;
}

TEST(machphys_mapping)
{
    struct xen_machphys_mapping m;
    long max_page = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);

    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m), 0);
    CHECK_EQ(m.v_start, MACH2PHYS_VIRT_START);
    CHECK_EQ(m.v_end, 0xffff804000000000UL);
    /* The hardware domain is told the real highest frame, others the table's size. */
    if (start_info->flags & SIF_PRIVILEGED)
        CHECK_EQ(m.max_mfn, max_page - 1);
    else
        CHECK_EQ(m.max_mfn, (1UL << 35) - 1);
}

TEST(memory_map_unset_then_set)
{
    struct xen_e820_entry map[2] = {
        { .addr = 0, .size = 0x100000, .type = XEN_E820_RAM },
        { .addr = 0x100000, .size = 0x1000, .type = XEN_E820_RESERVED },
    }, out[2] = { 0 };
    struct xen_foreign_memory_map f = { .domid = DOMID_SELF };
    struct xen_memory_map m = { .nr_entries = 1 };

    enso_set_guest_handle(m.buffer, out);
    /* A PV domain has no memory map until its toolstack sets one. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &m), -ENOSYS);
    f.map.nr_entries = 1025;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &f), -EINVAL);
    f.map.nr_entries = 2;
    enso_set_guest_handle(f.map.buffer, map);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &f), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &m), 0);
    CHECK_EQ(m.nr_entries, 1); /* clipped to the room given */
    CHECK_EQ(out[0].size, 0x100000);
    CHECK_EQ(out[1].size, 0);
    m.nr_entries = 8;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &m), 0);
    CHECK_EQ(m.nr_entries, 2);
    CHECK_EQ(out[1].type, XEN_E820_RESERVED);
}

TEST(decrease_gives_frame_back)
{
    xen_pfn_t f = frame_alloc();
    long before = tot_pages();

    CHECK(f);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(tot_pages(), before - 1);
    CHECK_EQ(M2P[f], M2P_INVALID);
    /* Gone: it cannot be mapped (Xen says -EBUSY for a frame one does not own) nor
     * given back again. */
    CHECK_EQ(map_at_scratch(f, 0), -EBUSY);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 0);
    restore_scratch();
}

TEST(increase_gets_zeroed_frame)
{
    xen_pfn_t f = 0;
    long before = tot_pages();
    const uint64_t *p = (const uint64_t *)scratch_page;
    bool zero = true;

    CHECK_EQ(reservation(XENMEM_increase_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK(f != 0);
    CHECK_EQ(tot_pages(), before + 1);
    CHECK_EQ(map_at_scratch(f, 0), 0);
    for (int i = 0; i < 512; i++)
        zero &= p[i] == 0;
    restore_scratch();
    CHECK(zero);
    /* Keep the accounting straight for the tests after us. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(tot_pages(), before);
}

TEST(populate_physmap_records_m2p)
{
    xen_pfn_t f = frame_alloc(), pfn = M2P[f];
    xen_pfn_t got = pfn;

    CHECK(f);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(reservation(XENMEM_populate_physmap, &got, 1, 0, 0, DOMID_SELF), 1);
    CHECK(got != pfn); /* the list now holds the new frame */
    CHECK_EQ(M2P[got], pfn);
    frame_free(got);
}

TEST(populate_physmap_order_2)
{
    xen_pfn_t room[4] = { frame_alloc(), frame_alloc(), frame_alloc(), frame_alloc() };
    xen_pfn_t e = 0x123400, base;

    /* Make room under the domain's maximum first. */
    CHECK(room[0] && room[1] && room[2] && room[3]);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, room, 4, 0, 0, DOMID_SELF), 4);
    CHECK_EQ(reservation(XENMEM_populate_physmap, &e, 1, 2, 0, DOMID_SELF), 1);
    base = e;
    CHECK_EQ(base & 3, 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(M2P[base + i], 0x123400 + i);
    for (int i = 0; i < 4; i++)
        frame_free(base + i);
}

TEST(address_bits_limit)
{
    xen_pfn_t f = 0;

    CHECK_EQ(reservation(XENMEM_increase_reservation, &f, 1, 0, XENMEMF_address_bits(32),
                         DOMID_SELF), 1);
    CHECK(f < (1UL << 20));
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(reservation(XENMEM_increase_reservation, &f, 1, 0, XENMEMF_address_bits(12),
                         DOMID_SELF), 0);
}

TEST(stale_mapping_keeps_frame_until_unmapped)
{
    xen_pfn_t f = frame_alloc();
    volatile uint64_t *p = (volatile uint64_t *)scratch_page;
    long before = tot_pages();

    CHECK(f);
    CHECK_EQ(map_at_scratch(f, _PAGE_RW), 0);
    p[7] = 0x5eed;
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    /* The mapping still holds the frame: same contents, still counted. */
    CHECK_EQ(p[7], 0x5eed);
    CHECK_EQ(tot_pages(), before);
    restore_scratch();
    /* The last use went with the mapping: now it is freed. */
    CHECK_EQ(tot_pages(), before - 1);
    CHECK_EQ(map_at_scratch(f, 0), -EBUSY);
    restore_scratch();
}

TEST(pinned_table_freed_on_unpin)
{
    xen_pfn_t f = frame_alloc();
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L1_TABLE };
    long before = tot_pages();

    CHECK(f);
    op.arg1.mfn = f;
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(tot_pages(), before);
    op.cmd = MMUEXT_UNPIN_TABLE;
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    CHECK_EQ(tot_pages(), before - 1);
}

TEST(decrease_stops_at_first_bad_extent)
{
    xen_pfn_t l[3] = { frame_alloc(), 0, frame_alloc() };
    long before = tot_pages();

    CHECK(l[0] && l[2]);
    l[1] = l[0]; /* given back already by the time it is reached */
    CHECK_EQ(reservation(XENMEM_decrease_reservation, l, 3, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(tot_pages(), before - 1);
    /* Continuing from extent 2, as a continuation would. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation | (2 << 6), l, 3, 0, 0, DOMID_SELF), 3);
    CHECK_EQ(tot_pages(), before - 2);
}

TEST(reservation_errors_return_zero_done)
{
    xen_pfn_t f = frame_alloc(), none = ~0UL;
    long before = tot_pages();

    CHECK(f);
    /* Bad list, bad domain, too large an order, too many extents, bad frame. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation, (xen_pfn_t *)0x8000000000000000UL, 1,
                         0, 0, DOMID_SELF), 0);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, 0x7000), 0);
    CHECK_EQ(reservation(XENMEM_increase_reservation, &f, 1, 19, 0, DOMID_SELF), 0);
    CHECK_EQ(reservation(XENMEM_increase_reservation, NULL, 1UL << 27, 0, 0, DOMID_SELF), 0);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &none, 1, 0, 0, DOMID_SELF), 0);
    /* A start beyond the end is returned as it is. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation | (5 << 6), &f, 1, 0, 0, DOMID_SELF), 5);
    /* NUMA: a node that cannot exist. */
    CHECK_EQ(reservation(XENMEM_increase_reservation, &f, 1, 0,
                         XENMEMF_exact_node(200), DOMID_SELF), 0);
    CHECK_EQ(tot_pages(), before);
    frame_free(f);
}

TEST(exchange_two_frames_for_one_pair)
{
    xen_pfn_t in[2] = { frame_alloc(), frame_alloc() }, out = 0x4000;
    struct xen_memory_exchange x = {
        .in = { .nr_extents = 2, .extent_order = 0, .domid = DOMID_SELF },
        .out = { .nr_extents = 1, .extent_order = 1, .domid = DOMID_SELF },
    };
    long before = tot_pages();

    CHECK(in[0] && in[1]);
    enso_set_guest_handle(x.in.extent_start, in);
    enso_set_guest_handle(x.out.extent_start, &out);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), 0);
    CHECK_EQ(x.nr_exchanged, 2);
    CHECK_EQ(out & 1, 0);
    CHECK_EQ(M2P[out], 0x4000);
    CHECK_EQ(M2P[out + 1], 0x4001);
    CHECK_EQ(tot_pages(), before);
    /* The inputs are no longer ours. */
    CHECK_EQ(map_at_scratch(in[0], 0), -EBUSY);
    restore_scratch();
    frame_free(out);
    frame_free(out + 1);
}

TEST(exchange_refuses_mapped_frame)
{
    xen_pfn_t in = frame_alloc(), out = 0x5000;
    struct xen_memory_exchange x = {
        .in = { .nr_extents = 1, .domid = DOMID_SELF },
        .out = { .nr_extents = 1, .domid = DOMID_SELF },
    };
    long before = tot_pages();

    CHECK(in);
    enso_set_guest_handle(x.in.extent_start, &in);
    enso_set_guest_handle(x.out.extent_start, &out);
    CHECK_EQ(map_at_scratch(in, 0), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), -EINVAL);
    CHECK_EQ(x.nr_exchanged, 0);
    CHECK_EQ(out, 0x5000);
    restore_scratch();
    CHECK_EQ(tot_pages(), before);
    /* Unmapped, it goes. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), 0);
    CHECK_EQ(x.nr_exchanged, 1);
    frame_free(out);
}

TEST(exchange_argument_checks)
{
    xen_pfn_t in = 0, out = 0;
    struct xen_memory_exchange x = {
        .in = { .nr_extents = 2, .domid = DOMID_SELF },
        .out = { .nr_extents = 1, .domid = DOMID_SELF },
    };

    enso_set_guest_handle(x.in.extent_start, &in);
    enso_set_guest_handle(x.out.extent_start, &out);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), -EINVAL); /* sizes differ */
    x.out.nr_extents = 2;
    x.out.domid = 0x7000;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), -EINVAL); /* domains differ */
    x.out.domid = DOMID_SELF;
    x.in.extent_order = x.out.extent_order = 19;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), -EPERM);  /* order too large */
    x.in.extent_order = x.out.extent_order = 0;
    x.nr_exchanged = 2;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), 0);       /* nothing left */
    x.nr_exchanged = 0;
    enso_set_guest_handle(x.in.extent_start, (void *)0x8000000000000000UL);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), -EFAULT);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, NULL), -EFAULT);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange | (1 << 6), &x), -EINVAL);
}

/* Balloon down and up again many times; the domain's size ends where it started. */
TEST(balloon_soak)
{
    static xen_pfn_t l[256];
    long before = tot_pages();

    for (int round = 0; round < 40; round++) {
        unsigned int n = 0;
        while (n < ARRAY_SIZE(l) && (l[n] = frame_alloc()))
            n++;
        CHECK(n > 16);
        CHECK_EQ(reservation(XENMEM_decrease_reservation, l, n, 0, 0, DOMID_SELF), n);
        CHECK_EQ(tot_pages(), before - n);
        CHECK_EQ(reservation(XENMEM_increase_reservation, l, n, 0, 0, DOMID_SELF), n);
        CHECK_EQ(tot_pages(), before);
        while (n)
            frame_free(l[--n]);
    }
}

static long memop(unsigned int op, const void *arg)
{
    return HYPERVISOR_memory_op(op, (void *)arg);
}

/* Domain 0 knows its own number; a domU started by enso does not (and skips those). */
static bool is_dom0(void)
{
    return start_info->flags & SIF_INITDOMAIN;
}

#define MISSING_DOMID 0x7000
#define BAD_VA ((void *)0x8000000000000000UL) /* not canonical */

TEST(machphys_mfn_list)
{
    static xen_pfn_t l[8];
    struct xen_machphys_mfn_list m = { .max_extents = 8 };
    unsigned long max_page = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    /* One frame per 2 MiB of table, 8 bytes an entry, for frames 0 to max_page - 1. */
    unsigned long want = (max_page * 8 + (1UL << 21) - 1) >> 21;

    CHECK(want >= 1 && want < 8);
    for (int i = 0; i < 8; i++)
        l[i] = 0x5a5a;
    enso_set_guest_handle(m.extent_start, l);
    CHECK_EQ(memop(XENMEM_machphys_mfn_list, &m), 0);
    INFO("max_page %#lx: %u extents, first mfn %#lx", max_page, m.nr_extents, l[0]);
    CHECK_EQ(m.nr_extents, want);
    CHECK_EQ(m.max_extents, 8);
    for (unsigned long i = 0; i < want; i++) {
        CHECK_EQ(l[i] & 511, 0); /* 2 MiB pages */
        CHECK(l[i] != 0 && l[i] < max_page);
        for (unsigned long j = 0; j < i; j++)
            CHECK(l[i] != l[j]);
        CHECK(M2P[l[i]] == M2P_INVALID || M2P[l[i]] >= start_info->nr_pages ||
              pfn_to_mfn(M2P[l[i]]) != l[i]); /* not one of ours */
    }
    CHECK_EQ(l[want], 0x5a5a);
    /* Room for one: one written. Room for none: none, and nr_extents says 0. */
    m.max_extents = 1;
    l[0] = 0x5a5a;
    CHECK_EQ(memop(XENMEM_machphys_mfn_list, &m), 0);
    CHECK_EQ(m.nr_extents, 1);
    CHECK(l[0] != 0x5a5a);
    m.max_extents = 0;
    m.nr_extents = 77;
    l[0] = 0x5a5a;
    CHECK_EQ(memop(XENMEM_machphys_mfn_list, &m), 0);
    CHECK_EQ(m.nr_extents, 0);
    CHECK_EQ(l[0], 0x5a5a);
    /* A list that cannot be written: -EFAULT, nr_extents left alone. */
    m.max_extents = 8;
    m.nr_extents = 77;
    enso_set_guest_handle(m.extent_start, BAD_VA);
    CHECK_EQ(memop(XENMEM_machphys_mfn_list, &m), -EFAULT);
    CHECK_EQ(m.nr_extents, 77);
    CHECK_EQ(memop(XENMEM_machphys_mfn_list, NULL), -EFAULT);
    CHECK_EQ(memop(XENMEM_machphys_mfn_list | (1 << 6), &m), -ENOSYS);
}

/* Machine address of the L1 entry that maps va in the bootstrap tables, or 0. */
static uint64_t l1e_maddr(uint64_t va)
{
    const uint64_t *t = (const uint64_t *)start_info->pt_base;
    uint64_t mfn = pfn_to_mfn((start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT);

    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t e = t[(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511];
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return 0;
        mfn = (e & 0x000ffffffffff000UL) >> PAGE_SHIFT;
        t = (const uint64_t *)(GUEST_VIRT_BASE + (M2P[mfn] << PAGE_SHIFT));
    }
    return (mfn << PAGE_SHIFT) + ((va >> PAGE_SHIFT) & 511) * 8;
}

/*
 * The frames are the hypervisor's, not the guest's: mapped as its own, -EBUSY. Xen
 * shares them read-only with privileged domains: domain 0 maps one through mmu_update
 * with DOMID_XEN as the owner, and it holds the table the guest reads at
 * MACH2PHYS_VIRT_START. (enso answers that mmu_update with -ESRCH: skipped there.)
 */
TEST(machphys_mfn_list_frames_hold_m2p)
{
    xen_pfn_t mfn = 0;
    struct xen_machphys_mfn_list m = { .max_extents = 1 };
    const volatile uint64_t *p = (const volatile uint64_t *)scratch_page;
    struct mmu_update u;
    bool same = true;
    long rc;

    enso_set_guest_handle(m.extent_start, &mfn);
    CHECK_EQ(memop(XENMEM_machphys_mfn_list, &m), 0);
    rc = map_at_scratch(mfn, 0);
    restore_scratch();
    CHECK_EQ(rc, -EBUSY);
    u.ptr = l1e_maddr(scratch());
    u.val = (mfn << PAGE_SHIFT) | _PAGE_PRESENT;
    CHECK(u.ptr);
    rc = HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_XEN);
    if (rc) {
        restore_scratch();
        SKIP("mapping the frame as DOMID_XEN's: %ld", rc);
    }
    for (int i = 0; i < 512; i++)
        same &= p[i] == M2P[i];
    restore_scratch();
    CHECK(same);
}

TEST(machphys_compat_mfn_list)
{
    xen_pfn_t l[4];
    struct xen_machphys_mfn_list m = { .max_extents = 4 };

    enso_set_guest_handle(m.extent_start, l);
    /* No 32-bit PV guests (Debian's Xen is built without PV32): refused before the
     * argument is read. */
    CHECK_EQ(memop(XENMEM_machphys_compat_mfn_list, &m), -EOPNOTSUPP);
    CHECK_EQ(memop(XENMEM_machphys_compat_mfn_list, NULL), -EOPNOTSUPP);
}

TEST(sharing_and_paging_absent)
{
    /* No memory sharing: nothing freed by it, nothing shared. Any domain may ask. */
    CHECK_EQ(memop(XENMEM_get_sharing_freed_pages, NULL), 0);
    CHECK_EQ(memop(XENMEM_get_sharing_shared_pages, NULL), 0);
    CHECK_EQ(memop(XENMEM_get_sharing_freed_pages | (1 << 6), NULL), -ENOSYS);
    /* Paging and sharing ops are not built in. */
    CHECK_EQ(memop(XENMEM_paging_op, NULL), -ENOSYS);
    CHECK_EQ(memop(XENMEM_sharing_op, NULL), -ENOSYS);
}

TEST(reserved_device_memory_map_empty)
{
    struct xen_reserved_device_memory buf[4];
    struct xen_reserved_device_memory_map m = { .flags = XENMEM_RDM_ALL, .nr_entries = 4 };

    memset(buf, 0x5a, sizeof(buf));
    enso_set_guest_handle(m.buffer, buf);
    /* No IOMMU: no ranges, success, nr_entries 0. */
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), 0);
    CHECK_EQ(m.nr_entries, 0);
    CHECK_EQ(m.flags, XENMEM_RDM_ALL);
    CHECK_EQ(buf[0].start_pfn, 0x5a5a5a5a5a5a5a5aUL);
    /* For one device: the same. */
    m.flags = 0;
    m.nr_entries = 4;
    m.dev.pci.bus = 3;
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), 0);
    CHECK_EQ(m.nr_entries, 0);
    CHECK_EQ(m.dev.pci.bus, 3);
    /* No room and no buffer is fine too; of the buffer only its start is checked. */
    m.nr_entries = 0;
    enso_set_guest_handle(m.buffer, NULL);
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), 0);
    m.nr_entries = 100;
    enso_set_guest_handle(m.buffer, (void *)((1UL << 47) - 16));
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), 0);
    CHECK_EQ(m.nr_entries, 0);
    /* Unknown flags; a buffer outside guest space (checked first); a bad argument. */
    m.flags = 2;
    m.nr_entries = 4;
    enso_set_guest_handle(m.buffer, buf);
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), -EINVAL);
    CHECK_EQ(m.nr_entries, 4);
    enso_set_guest_handle(m.buffer, BAD_VA);
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), -EFAULT);
    m.flags = XENMEM_RDM_ALL;
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, &m), -EFAULT);
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map, NULL), -EFAULT);
    enso_set_guest_handle(m.buffer, buf);
    CHECK_EQ(memop(XENMEM_reserved_device_memory_map | (1 << 6), &m), -EINVAL);
}

TEST(pod_target_not_for_pv)
{
    struct xen_pod_target t = { .target_pages = 1, .domid = DOMID_SELF };

    /* Populate-on-demand is HVM only: an existing PV domain is -EINVAL, for anyone. */
    CHECK_EQ(memop(XENMEM_set_pod_target, &t), -EINVAL);
    CHECK_EQ(memop(XENMEM_get_pod_target, &t), -EINVAL);
    CHECK_EQ(t.tot_pages, 0);
    t.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_get_pod_target, &t), -ESRCH);
    CHECK_EQ(memop(XENMEM_set_pod_target, NULL), -EFAULT);
    t.domid = DOMID_SELF;
    CHECK_EQ(memop(XENMEM_get_pod_target | (1 << 6), &t), -ENOSYS);
}

TEST(physmap_ops_not_for_pv)
{
    struct xen_add_to_physmap a = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_gmfn, .idx = 0, .gpfn = 0x100000,
    };
    struct xen_add_to_physmap_batch b = { .domid = DOMID_SELF, .space = XENMAPSPACE_gmfn };
    struct xen_remove_from_physmap r = { .domid = DOMID_SELF, .gpfn = 0x100000 };

    /* A PV domain has no physmap to change: -EACCES once the domain is found. */
    CHECK_EQ(memop(XENMEM_add_to_physmap, &a), -EACCES);
    a.space = XENMAPSPACE_shared_info;
    CHECK_EQ(memop(XENMEM_add_to_physmap, &a), -EACCES);
    CHECK_EQ(memop(XENMEM_add_to_physmap | (5 << 6), &a), -EACCES);
    CHECK_EQ(memop(XENMEM_add_to_physmap | (0x10000UL << 6), &a), -EDOM);
    a.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_add_to_physmap, &a), -ESRCH);
    a.space = XENMAPSPACE_gmfn_foreign; /* batch only: refused before the lookup */
    CHECK_EQ(memop(XENMEM_add_to_physmap, &a), -ENOSYS);
    CHECK_EQ(memop(XENMEM_add_to_physmap, NULL), -EFAULT);

    CHECK_EQ(memop(XENMEM_add_to_physmap_batch, &b), -EACCES);
    CHECK_EQ(memop(XENMEM_add_to_physmap_batch | (0x10000UL << 6), &b), -EDOM);
    b.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_add_to_physmap_batch, &b), -ESRCH);
    b.space = XENMAPSPACE_gmfn_range; /* single form only: refused before the lookup */
    CHECK_EQ(memop(XENMEM_add_to_physmap_batch, &b), -EOPNOTSUPP);
    CHECK_EQ(memop(XENMEM_add_to_physmap_batch, NULL), -EFAULT);

    CHECK_EQ(memop(XENMEM_remove_from_physmap, &r), -EACCES);
    CHECK_EQ(memop(XENMEM_remove_from_physmap | (1 << 6), &r), -EINVAL);
    r.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_remove_from_physmap, &r), -ESRCH);
    CHECK_EQ(memop(XENMEM_remove_from_physmap, NULL), -EFAULT);
}

TEST(access_op_refused)
{
    struct xen_mem_access_op a = {
        .op = XENMEM_access_op_get_access, .domid = DOMID_SELF, .pfn = ~0UL,
    };

    /* Another domain by number only: DOMID_SELF is none, oneself -EPERM; another PV
     * domain (a domU asking about domain 0, say) -EINVAL: access rights are HVM only. */
    CHECK_EQ(memop(XENMEM_access_op, &a), -ESRCH);
    a.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_access_op, &a), -ESRCH);
    if (is_dom0()) {
        a.domid = 0;
        CHECK_EQ(memop(XENMEM_access_op, &a), -EPERM);
        CHECK_EQ(memop(XENMEM_access_op | (1 << 6), &a), -EPERM);
    }
    CHECK_EQ(memop(XENMEM_access_op, NULL), -EFAULT);
}

TEST(claim_pages_checks)
{
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
    xen_pfn_t f;

    /* Only the page count may be set; the domain goes by number (not DOMID_SELF).
     * Then a domU is refused -EPERM; domain 0's claim is not tried here (Xen: 0 for a
     * claim of 0 pages; enso does not implement claims: -ENOSYS). */
    CHECK_EQ(memop(XENMEM_claim_pages, &r), -EINVAL);
    r.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_claim_pages, &r), -EINVAL);
    r.domid = 0;
    r.extent_order = 1;
    CHECK_EQ(memop(XENMEM_claim_pages, &r), -EINVAL);
    r.extent_order = 0;
    r.mem_flags = XENMEMF_address_bits(32);
    CHECK_EQ(memop(XENMEM_claim_pages, &r), -EINVAL);
    r.mem_flags = 0;
    enso_set_guest_handle(r.extent_start, &f);
    CHECK_EQ(memop(XENMEM_claim_pages, &r), -EINVAL);
    enso_set_guest_handle(r.extent_start, NULL);
    CHECK_EQ(memop(XENMEM_claim_pages | (1 << 6), &r), -EINVAL);
    CHECK_EQ(memop(XENMEM_claim_pages, NULL), -EFAULT);
}

TEST(vnumainfo_none)
{
    struct xen_vnuma_topology_info t = {
        .domid = DOMID_SELF, .nr_vnodes = 1, .nr_vcpus = 1, .nr_vmemranges = 1,
    };

    /* No virtual NUMA layout was given (a domU naming another domain: -EPERM first). */
    CHECK_EQ(memop(XENMEM_get_vnumainfo, &t), -EOPNOTSUPP);
    CHECK_EQ(t.nr_vnodes, 1);
    t.pad = 1;
    CHECK_EQ(memop(XENMEM_get_vnumainfo, &t), -EINVAL);
    t.pad = 0;
    t.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_get_vnumainfo, &t), -ESRCH);
    t.domid = DOMID_SELF;
    CHECK_EQ(memop(XENMEM_get_vnumainfo | (1 << 6), &t), -EINVAL);
    CHECK_EQ(memop(XENMEM_get_vnumainfo, NULL), -EFAULT);
}

TEST(acquire_resource_refusals)
{
    struct xen_mem_acquire_resource r = {
        .domid = DOMID_SELF, .type = XENMEM_resource_grant_table,
        .id = XENMEM_resource_grant_table_id_shared,
    };

    /* Another domain's resource, by number: DOMID_SELF is none, oneself -EPERM (and a
     * domU naming another domain it is not the device model of: -EPERM). */
    CHECK_EQ(memop(XENMEM_acquire_resource, &r), -ESRCH);
    r.domid = MISSING_DOMID;
    CHECK_EQ(memop(XENMEM_acquire_resource, &r), -ESRCH);
    if (is_dom0()) {
        r.domid = 0;
        CHECK_EQ(memop(XENMEM_acquire_resource, &r), -EPERM);
    }
    /* Argument checks come before the domain. */
    r.pad = 1;
    CHECK_EQ(memop(XENMEM_acquire_resource, &r), -EINVAL);
    r.pad = 0;
    r.frame = 1UL << 32;
    CHECK_EQ(memop(XENMEM_acquire_resource, &r), -EINVAL);
    r.frame = 0xffffffffUL;
    r.nr_frames = 1;
    CHECK_EQ(memop(XENMEM_acquire_resource, &r), -EINVAL);
    CHECK_EQ(memop(XENMEM_acquire_resource, NULL), -EFAULT);
}

/*
 * A domain never owns more pages than its maximum: at the limit the reservation calls
 * stop short (their done count) and the page count stays. dom0 runs with
 * dom0_mem=64M,max:64M; a domU as enso sets it up.
 */
TEST(reservation_stops_at_maximum)
{
    static xen_pfn_t fill[64];
    domid_t self = DOMID_SELF;
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    long cur = tot_pages(), gap = max - cur;
    xen_pfn_t f = frame_alloc(), pfn = f ? M2P[f] : 0, l[2], one = 0x7fff0;

    INFO("current %ld, maximum %ld", cur, max);
    CHECK(f);
    CHECKF(gap >= 0 && gap <= 64, "%ld pages short of the maximum", gap);
    /* Up to the maximum first (none needed when the domain was built at it). */
    if (gap)
        CHECK_EQ(reservation(XENMEM_increase_reservation, fill, gap, 0, 0, DOMID_SELF), gap);
    CHECK_EQ(tot_pages(), max);
    CHECK_EQ(reservation(XENMEM_increase_reservation, &one, 1, 0, 0, DOMID_SELF), 0);
    CHECK_EQ(one, 0x7fff0);
    CHECK_EQ(reservation(XENMEM_populate_physmap, &one, 1, 0, 0, DOMID_SELF), 0);
    CHECK_EQ(tot_pages(), max);
    /* Room for one page, two asked for: one done. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation, &f, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(tot_pages(), max - 1);
    l[0] = pfn;
    l[1] = 0x7fff1;
    CHECK_EQ(reservation(XENMEM_populate_physmap, l, 2, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(M2P[l[0]], pfn);
    CHECK_EQ(l[1], 0x7fff1);
    CHECK_EQ(tot_pages(), max);
    /* An order-1 extent does not fit in one page of room either. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation, l, 1, 0, 0, DOMID_SELF), 1);
    CHECK_EQ(reservation(XENMEM_increase_reservation, &one, 1, 1, 0, DOMID_SELF), 0);
    CHECK_EQ(tot_pages(), max - 1);
    l[0] = pfn;
    CHECK_EQ(reservation(XENMEM_populate_physmap, l, 1, 0, 0, DOMID_SELF), 1);
    frame_free(l[0]);
    if (gap)
        CHECK_EQ(reservation(XENMEM_decrease_reservation, fill, gap, 0, 0, DOMID_SELF), gap);
    CHECK_EQ(tot_pages(), cur);
}
