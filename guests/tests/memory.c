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
