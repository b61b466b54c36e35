/*
 * Hostile arguments: every pointer-taking hypercall and sub-op the hypervisor offers,
 * given NULL, unmapped addresses, non-canonical addresses, addresses in the
 * hypervisor's range (the read-only M2P included) and, where the hypervisor writes, a
 * read-only page of our own; then bad commands, indices and contents. Xen answers
 * -EFAULT for a bad pointer (with the exceptions the tests name) and never crashes the
 * domain: the last test is that we are still here.
 *
 * Runs as domain 0 (tests/guests/run.py, on Xen and enso) and as an unprivileged domU
 * (tests/qemu/domain_tests.py, "domu=1", on enso only: Xen cannot start a domU here
 * without a toolstack). There the privileged operations take their other branch, with
 * the errnos read from Xen 4.17's source (the function named in each comment); the
 * domU also tries to map every machine frame it does not own. With "console_read=1"
 * (domain 0 only) a test waits for a typed line and reads it through bad buffers first.
 */
#include <guest/frames.h>
#include <guest/pt.h>
#include <guest/test.h>
#include <public/physdev.h>
#include <public/platform.h>

struct bad_ptr {
    const char *what;
    ulong addr;
    bool output_only; /* readable: a bad pointer only where the hypervisor writes */
    bool ro_table;    /* the address is our own L4 (start_info.pt_base), mapped read-only */
};

#define UNMAPPED (GUEST_VIRT_BASE + (512UL << 20))

static const struct bad_ptr bad_ptrs[] = {
    { "NULL", 0, false, false },
    { "unmapped", UNMAPPED, false, false },
    { "unmapped low", 0x00007ffffffff000UL, false, false },
    { "non-canonical", 0x8000000000000000UL, false, false },
    { "non-canonical low", 0x0000800000000000UL, false, false },
    { "hypervisor start (read-only M2P)", 0xffff800000000000UL, false, false },
    { "M2P", MACH2PHYS_VIRT_START + 4096, false, false },
    { "hypervisor", 0xffff830000000000UL, false, false },
    { "hypervisor top", 0xffff87fffffff000UL, false, false },
    { "hypervisor last bytes", 0xffff87fffffffffcUL, false, false },
    { "read-only page table", 0, true, true },
};

static ulong bad_ptr_addr(size_t i)
{
    return bad_ptrs[i].ro_table ? start_info->pt_base : bad_ptrs[i].addr;
}

/* Flags of EACH_BAD_PTR: also try the readable read-only page (the pointer is only an
 * output); leave NULL out (it means something for this call). */
#define BP_INPUT 0
#define BP_OUTPUT 1
#define BP_NO_NULL 2

/*
 * Evaluates expr with p set to each bad pointer and checks the result against want
 * (which may depend on p); the test fails naming the pointer.
 */
#define EACH_BAD_PTR(flags, expr, want)                                                \
    do {                                                                               \
        for (size_t i_ = 0; i_ < ARRAY_SIZE(bad_ptrs); i_++) {                         \
            ulong p = bad_ptr_addr(i_);                                                \
            long rc_, want_;                                                           \
            if (bad_ptrs[i_].output_only && !((flags) & BP_OUTPUT))                    \
                continue;                                                              \
            if (!p && ((flags) & BP_NO_NULL))                                          \
                continue;                                                              \
            want_ = (want);                                                            \
            rc_ = (expr);                                                              \
            CHECKF(rc_ == want_, "%s pointer %#lx: %ld, expected %ld",                 \
                   bad_ptrs[i_].what, p, rc_, want_);                                  \
        }                                                                              \
    } while (0)

/*
 * Xen's __addr_ok (x86_64/uaccess.h): the start of a range is guest-owned if below
 * 2^47 or at/above HYPERVISOR_VIRT_END, so the hypervisor's range and non-canonical
 * addresses are refused. Calls that only check a pointer with it (and copy nothing,
 * or copy later and ignore the failure) accept every other bad pointer.
 */
static bool xen_addr_ok(ulong p)
{
    return p < (1UL << 47) || p >= HYPERVISOR_VIRT_END;
}

static bool privileged(void)
{
    return start_info->flags & SIF_PRIVILEGED;
}

static void do_int3(void *arg)
{
    __asm__ __volatile__("int3");
}

/* The last page of the bootstrap region: ours, mapped, and followed by nothing. */
static ulong last_page(void)
{
    uint64_t va = GUEST_VIRT_BASE, leaf;
    int level;

    while (pt_lookup(va, &leaf, &level))
        va += PAGE_SIZE;
    return va - PAGE_SIZE;
}

static long platform_op(ulong op)
{
    return hypercall(__HYPERVISOR_platform_op, op, 0, 0, 0, 0);
}

static long uvm_otherdomain(ulong va, uint64_t pte, ulong flags, domid_t dom)
{
    return hypercall(__HYPERVISOR_update_va_mapping_otherdomain, va, pte, flags, dom, 0);
}

static long mmu_update1(uint64_t ptr, uint64_t val, domid_t dom)
{
    struct mmu_update u = { .ptr = ptr, .val = val };

    return HYPERVISOR_mmu_update(&u, 1, NULL, dom);
}

static long set_iopl(unsigned int iopl)
{
    struct physdev_set_iopl s = { .iopl = iopl };

    return HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &s);
}

/* The "domu=1" the scenario passes must agree with what the builder says. */
TEST(privilege_as_told)
{
    CHECK_EQ(privileged(), !cmdline_get_num("domu", 0));
}

/* ---- an unprivileged domain: other domains' frames, I/O ---- */

#define SCAN_FRAMES (1UL << 18) /* frames the ownership bitmap covers: 1 GiB */
#define IO_FRAMES 0x100          /* Xen gives the first MiB to DOM_IO */
#define INVALID_FRAME ((1UL << 40) - 1) /* PADDR_MASK >> PAGE_SHIFT: Xen's INVALID_MFN test */

/*
 * Every machine frame up to maximum_ram_page that is not ours, mapped read-only with
 * update_va_mapping and writable with mmu_update at scratch_page: never succeeds. The
 * errnos are Xen 4.17's get_page_from_l1e (x86/mm.c): a frame of DOM_IO (the first
 * MiB, arch_init_memory) or no RAM at all is I/O memory the domain has no access to,
 * -EPERM; a frame of another domain, of Xen or of nobody cannot be pinned, -EBUSY;
 * the all-ones frame is -EINVAL. First in the file: later tests may leave frames with
 * the domain that the p2m does not list (increase_reservation into a bad list).
 */
TEST(domu_maps_no_foreign_frame)
{
    static uint8_t own[SCAN_FRAMES / 8];
    static const uint64_t beyond[] = { 0xfffff, 0xfeb00, INVALID_FRAME };
    long max = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    uint64_t slot = boot_l1_slot((ulong)scratch_page), mfn, end, first_bad = ~0UL;
    unsigned long mapped = 0, wrong = 0, checked = 0;
    long bad_ro = 0, bad_rw = 0;

    if (privileged())
        SKIP("domain 0 may map I/O memory: as a domU in domain_tests.py");
    CHECK(max > IO_FRAMES);
    CHECK(slot != 0);
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn++) {
        mfn = pfn_to_mfn(pfn);
        if (mfn < SCAN_FRAMES)
            own[mfn / 8] |= 1 << (mfn % 8);
    }
    /* shared_info is the domain's own page too (Xen shares it with the domain). */
    mfn = start_info->shared_info >> PAGE_SHIFT;
    if (mfn < SCAN_FRAMES)
        own[mfn / 8] |= 1 << (mfn % 8);
    end = (uint64_t)max < SCAN_FRAMES ? (uint64_t)max : SCAN_FRAMES;
    for (size_t i = 0; i <= end + ARRAY_SIZE(beyond); i++) {
        long want, ro, rw;

        mfn = i < end ? i : i == end ? (uint64_t)max : beyond[i - end - 1];
        if (mfn < SCAN_FRAMES && (own[mfn / 8] & (1 << (mfn % 8))))
            continue;
        want = -EBUSY;
        if (mfn < IO_FRAMES || mfn >= (uint64_t)max)
            want = mfn == INVALID_FRAME ? -EINVAL : -EPERM;
        ro = HYPERVISOR_update_va_mapping((ulong)scratch_page,
                                          (mfn << PAGE_SHIFT) | _PAGE_PRESENT |
                                              _PAGE_ACCESSED, UVMF_INVLPG);
        rw = mmu_update1(slot, (mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW |
                                   _PAGE_ACCESSED | _PAGE_DIRTY, DOMID_SELF);
        checked++;
        if (!ro || !rw) {
            mapped++;
            scratch_restore();
        }
        if (ro != want || rw != want) {
            if (!wrong++) {
                first_bad = mfn;
                bad_ro = ro;
                bad_rw = rw;
            }
        }
    }
    scratch_restore();
    INFO("%lu frames of %ld not ours tried, %lu mapped, %lu with another errno", checked,
         max, mapped, wrong);
    CHECKF(!mapped, "%lu frames could be mapped", mapped);
    CHECKF(!wrong, "%lu frames with another errno, first mfn %#lx: read-only %ld, "
           "writable %ld, expected %ld", wrong, first_bad, bad_ro, bad_rw,
           first_bad < IO_FRAMES || first_bad >= (uint64_t)max ? (long)-EPERM : (long)-EBUSY);
}

static void do_in80(void *arg)
{
    uint8_t v;

    __asm__ __volatile__("inb $0x80, %0" : "=a"(v));
    *(uint8_t *)arg = v;
}

static void do_out80(void *arg)
{
    __asm__ __volatile__("outb %0, $0x80" : : "a"((uint8_t)0));
}

static void do_in_dx(void *arg)
{
    uint32_t v;

    __asm__ __volatile__("inl %%dx, %0" : "=a"(v) : "d"(0xcfc));
    *(uint32_t *)arg = v;
}

/*
 * Port I/O at IOPL 0 is #GP(0), for any domain. With a virtual IOPL a domU's accesses
 * are emulated but reach no port: Xen's guest_io_read (pv/emul-priv-op.c) reads all
 * ones where admin_io_okay fails, and a domU owns no ports.
 */
TEST(port_io)
{
    struct trap_record r;
    uint32_t v = 0;

    CHECK_TRAP(catch_trap(do_in80, &v, &r), r, 13);
    CHECK_EQ(r.error, 0);
    CHECK_TRAP(catch_trap(do_out80, NULL, &r), r, 13);
    CHECK_EQ(r.error, 0);
    CHECK_TRAP(catch_trap(do_in_dx, &v, &r), r, 13);
    CHECK_EQ(r.error, 0);
    if (privileged())
        return; /* domain 0 would reach the real ports */
    CHECK_EQ(set_iopl(1), 0);
    v = 0;
    CHECK_NO_TRAP(catch_trap(do_in80, &v, &r), r);
    CHECK_EQ(v & 0xff, 0xff);
    CHECK_NO_TRAP(catch_trap(do_in_dx, &v, &r), r);
    CHECK_EQ(v, 0xffffffffU);
    CHECK_NO_TRAP(catch_trap(do_out80, NULL, &r), r);
    CHECK_EQ(set_iopl(0), 0);
    CHECK_TRAP(catch_trap(do_out80, NULL, &r), r, 13);
}

/*
 * Naming another domain, or DOMID_IO/DOMID_XEN, in the memory calls. Xen 4.17:
 * get_pg_owner (common/page_alloc.c) refuses the caller's own id (-ESRCH) and hands out
 * dom_io / dom_xen; xsm_mmu_update (xsm/dummy.h, XSM_TARGET) then refuses a foreign
 * page owner other than dom_io, or a foreign table owner, to an unprivileged caller
 * (-EPERM), per request in do_mmu_update; xsm_mmuext_op and xsm_update_va_mapping
 * refuse any foreign owner, dom_io included, up front. A mapping allowed that far asks
 * get_page_from_l1e: a RAM frame not owned by the named owner, with the owner not
 * privileged (xsm_priv_mapping), cannot be pinned (-EBUSY), I/O memory is -EPERM
 * without iomem access. A non-present entry maps nothing, so only the checks apply.
 */
TEST(foreign_owners)
{
    uint64_t slot = boot_l1_slot((ulong)scratch_page);
    uint64_t own = image_mfn(&bad_ptrs) << PAGE_SHIFT | _PAGE_PRESENT | _PAGE_ACCESSED;
    struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    bool priv = privileged();

    CHECK(slot != 0);
    /* DOMID_IO as the page owner: own RAM is not dom_io's. */
    CHECK_EQ(mmu_update1(slot, own, DOMID_IO), -EBUSY);
    CHECK_EQ(mmu_update1(slot, 0, DOMID_IO), 0);
    scratch_restore();
    /* DOMID_XEN: allowed to the privileged domain only; again not Xen's frame. */
    CHECK_EQ(mmu_update1(slot, own, DOMID_XEN), priv ? -EBUSY : -EPERM);
    CHECK_EQ(mmu_update1(slot, 0, DOMID_XEN), priv ? 0 : -EPERM);
    scratch_restore();
    /* Refused to a domU up front; a privileged caller gets as far as the op, and a
     * local flush for another page owner is -EPERM too. */
    CHECK_EQ(HYPERVISOR_mmuext_op(&flush, 1, NULL, DOMID_IO), -EPERM);
    CHECK_EQ(HYPERVISOR_mmuext_op(&flush, 1, NULL, DOMID_XEN), -EPERM);
    CHECK_EQ(uvm_otherdomain((ulong)scratch_page, own, UVMF_INVLPG, DOMID_IO),
             priv ? -EBUSY : -EPERM);
    scratch_restore();
    if (priv) {
        /* Domain 0 naming itself by its id: get_pg_owner refuses it. */
        CHECK_EQ(mmu_update1(slot, own, 0), -ESRCH);
        CHECK_EQ(HYPERVISOR_mmuext_op(&flush, 1, NULL, 0), -ESRCH);
        CHECK_EQ(uvm_otherdomain((ulong)scratch_page, own, UVMF_INVLPG, 0), -ESRCH);
        scratch_restore();
        return;
    }
    /* A domU: I/O memory through DOMID_IO needs iomem access it does not have. */
    CHECK_EQ(mmu_update1(slot, (0xb8UL << PAGE_SHIFT) | _PAGE_PRESENT, DOMID_IO), -EPERM);
    /* Domain 0 as page owner, or as table owner (foreigndom bits 16-31, id + 1). */
    CHECK_EQ(mmu_update1(slot, own, 0), -EPERM);
    CHECK_EQ(mmu_update1(slot, 0, 0), -EPERM);
    {
        struct mmu_update u = { .ptr = slot, .val = own };
        CHECK_EQ(hypercall(__HYPERVISOR_mmu_update, (ulong)&u, 1, 0,
                           (1UL << 16) | DOMID_SELF, 0), -EPERM);
    }
    CHECK_EQ(HYPERVISOR_mmuext_op(&flush, 1, NULL, 0), -EPERM);
    CHECK_EQ(uvm_otherdomain((ulong)scratch_page, own, UVMF_INVLPG, 0), -EPERM);
    scratch_restore();
}

/* ---- console_io ---- */

/* An unprivileged domain is refused console_io outright (xsm_console_io: XSM_PRIV
 * unless a debug build lets writes through), before the pointer or the command. */
static long console_want(long dom0)
{
    return privileged() ? dom0 : -EPERM;
}

TEST(console_write_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_console_io(CONSOLEIO_write, 8, (void *)p),
                 console_want(-EFAULT));
    /* Nothing to write: nothing read, whatever the pointer. */
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_console_io(CONSOLEIO_write, 0, (void *)p),
                 console_want(0));
    CHECK_EQ(HYPERVISOR_console_io(99, 8, NULL), console_want(-ENOSYS));
}

TEST(console_write_crossing_into_unmapped)
{
    char *buf = (char *)last_page() + PAGE_SIZE - 4;

    memcpy(buf, "...", 4);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 8, buf), console_want(-EFAULT));
}

/* Nothing is waiting on the serial line, so nothing is copied and no pointer is
 * looked at: even bad ones give 0. */
TEST(console_read_bad_ptr_nothing_to_read)
{
    if (cmdline_get_num("console_read", 0))
        SKIP("input may be waiting already (console_read=1)");
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_console_io(CONSOLEIO_read, 8, (void *)p),
                 console_want(0));
}

TEST(console_read_count_too_big)
{
    char buf[8];

    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0x80000000U, buf), console_want(-E2BIG));
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0xffffffffU, buf), console_want(-E2BIG));
    if (!cmdline_get_num("console_read", 0))
        CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0x7fffffffU, buf), console_want(0));
}

/* ---- set_trap_table, set_gdt ---- */

TEST(set_trap_table_bad_ptr)
{
    /* NULL is not bad here: it clears the table (next test). */
    EACH_BAD_PTR(BP_NO_NULL, HYPERVISOR_set_trap_table((void *)p), -EFAULT);
    /* The table we had is still there. */
    struct trap_record r;
    CHECK_TRAP(catch_trap(do_int3, NULL, &r), r, 3);
}

TEST(set_trap_table_null_clears)
{
    struct trap_info one[2] = {
        { .vector = 3, .cs = FLAT_KERNEL_CS, .address = trap_handler(3) },
        { .address = 0 },
    };
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_set_trap_table(NULL), 0);
    /* Entries are merged into the (now empty) table; only #BP is back. */
    CHECK_EQ(HYPERVISOR_set_trap_table(one), 0);
    CHECK_TRAP(catch_trap(do_int3, NULL, &r), r, 3);
    CHECK_EQ(traps_reset(), 0);
}

TEST(set_trap_table_noncanonical_handler)
{
    struct trap_info t[2] = {
        { .vector = 0x90, .cs = FLAT_KERNEL_CS, .address = 0x8000000000000000UL },
        { .address = 0 },
    };

    CHECK_EQ(HYPERVISOR_set_trap_table(t), -EINVAL);
}

/* Entries before the bad one are taken; the bad one fails the call. */
TEST(set_trap_table_crossing_into_unmapped)
{
    struct trap_info *t = (struct trap_info *)(last_page() + PAGE_SIZE) - 1;
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_set_trap_table(NULL), 0);
    *t = (struct trap_info){ .vector = 3, .cs = FLAT_KERNEL_CS, .address = trap_handler(3) };
    CHECK_EQ(HYPERVISOR_set_trap_table(t), -EFAULT);
    CHECK_TRAP(catch_trap(do_int3, NULL, &r), r, 3);
    CHECK_EQ(traps_reset(), 0);
}

/* The frame list of one GDT page (an entry count of 0 would install an empty GDT). Too
 * many entries is refused before the list is read (do_set_gdt). */
TEST(set_gdt_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, hypercall(__HYPERVISOR_set_gdt, p, 1, 0, 0, 0), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, hypercall(__HYPERVISOR_set_gdt, p, 14 * 512 + 1, 0, 0, 0),
                 -EINVAL);
}

/* ---- xen_version ---- */

/* Xen's xsm_xen_version denies the command line and build id to an unprivileged
 * caller: the first answers "<denied>", the second -EPERM before any pointer. */
TEST(xen_version_bad_ptr)
{
    static const int cmds[] = { XENVER_extraversion, XENVER_compile_info,
                                XENVER_capabilities, XENVER_changeset,
                                XENVER_platform_parameters, XENVER_get_features,
                                XENVER_guest_handle, XENVER_commandline };

    for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
        /* get_features reads before it writes, but the read-only page reads fine. */
        EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_xen_version(cmds[c], (void *)p), -EFAULT);
    }
    if (!privileged()) {
        EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_xen_version(XENVER_build_id, (void *)p), -EPERM);
        return;
    }
    /* build_id reads the length first; NULL asks for the length. */
    EACH_BAD_PTR(BP_NO_NULL, HYPERVISOR_xen_version(XENVER_build_id, (void *)p), -EFAULT);
}

/*
 * XENVER_commandline: domain 0 gets the whole 1024-byte buffer (NUL padded); a domU
 * gets "<denied>" and only its 9 bytes are written (Xen copies strlen + 1), so 9 bytes
 * before an unmapped page are enough.
 */
TEST(xen_version_commandline)
{
    static char buf[1024];
    char *end = (char *)last_page() + PAGE_SIZE - 9;

    memset(buf, 0x55, sizeof(buf));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, buf), 0);
    if (privileged()) {
        CHECK_EQ(buf[sizeof(buf) - 1], 0);
        CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, end), -EFAULT);
        return;
    }
    CHECK(!memcmp(buf, "<denied>", 9));
    CHECKF(buf[9] == 0x55, "byte 9 of the buffer written (%#x)", buf[9] & 0xff);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, end), 0);
    CHECK(!memcmp(end, "<denied>", 9));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_build_id, NULL), -EPERM);
}

/* An output that starts mapped and runs into an unmapped page: -EFAULT, and what
 * fitted was written. */
TEST(xen_version_output_crossing_into_unmapped)
{
    char *buf = (char *)last_page() + PAGE_SIZE - 8;
    xen_extraversion_t full;

    memset(buf, 0x55, 8);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, full), 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, buf), -EFAULT);
    CHECK(!memcmp(buf, full, 8));
}

/* ---- multicall ---- */

TEST(multicall_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_multicall((void *)p, 1), -EFAULT);
    /* No entries: only the start is checked (guest_handle_okay). */
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_multicall((void *)p, 0), xen_addr_ok(p) ? 0 : -EFAULT);
}

/*
 * The M2P as a multicall list: the list is checked before the first entry is read
 * (the hypervisor's range is never guest memory), so nothing runs. Built where the M2P
 * holds our own pfns 17, 18, 19...: op 17 (xen_version), args[0] 19 (no such command).
 */
TEST(multicall_result_into_m2p)
{
    uint64_t mfn = pfn_to_mfn(17);

    for (uint64_t i = 0; i < 8; i++)
        if (pfn_to_mfn(17 + i) != mfn + i)
            SKIP("pfns 17-24 are not machine-contiguous");
    CHECK_EQ(HYPERVISOR_multicall((void *)(MACH2PHYS_VIRT_START + mfn * 8), 1), -EFAULT);
    CHECK_EQ(M2P[mfn + 1], 18);
}

/*
 * A list running off the end of mapped memory: the entries before the hole run (and
 * get their results), then -EFAULT. (So a huge count from a valid pointer runs
 * whatever the following memory holds, as entries, until the first unmapped page.)
 */
TEST(multicall_crossing_into_unmapped)
{
    struct multicall_entry *mc = (struct multicall_entry *)(last_page() + PAGE_SIZE) - 1;

    memset(mc, 0, sizeof(*mc));
    mc->op = __HYPERVISOR_xen_version;
    mc->args[0] = XENVER_version;
    mc->result = 0x5555;
    CHECK_EQ(HYPERVISOR_multicall(mc, 2), -EFAULT);
    CHECK_EQ(mc->result, (4 << 16) | 17);
}

/* ---- sched_op ---- */

TEST(sched_shutdown_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_shutdown_code, (void *)p), -EFAULT);
}

TEST(sched_poll_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_poll, (void *)p), -EFAULT);
}

TEST(sched_poll_bad_ports)
{
    struct sched_poll sp = { .nr_ports = 1, .timeout = 1 };

    EACH_BAD_PTR(BP_INPUT, (sp.ports.p = p, HYPERVISOR_sched_op(SCHEDOP_poll, &sp)), -EFAULT);
    /* No ports: do_poll still checks where the list starts. */
    sp.nr_ports = 0;
    EACH_BAD_PTR(BP_INPUT, (sp.ports.p = p, HYPERVISOR_sched_op(SCHEDOP_poll, &sp)),
                 xen_addr_ok(p) ? 0 : -EFAULT);
}

TEST(sched_poll_too_many_ports)
{
    static evtchn_port_t ports[129];
    struct sched_poll sp = { .nr_ports = 129, .timeout = 1 };

    enso_set_guest_handle(sp.ports, ports);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -EINVAL);
}

TEST(sched_poll_bad_port)
{
    static evtchn_port_t port = 5000;
    struct sched_poll sp = { .nr_ports = 1, .timeout = 1 };

    enso_set_guest_handle(sp.ports, &port);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -EINVAL);
}

/* No ports and a deadline long past: wakes at once. */
TEST(sched_poll_no_ports_past_deadline)
{
    struct sched_poll sp = { .nr_ports = 0, .timeout = 1 };

    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), 0);
}

/*
 * remote_shutdown: the domain is looked up first (rcu_lock_domain_by_id: no
 * DOMID_SELF), then xsm_schedop_shutdown (XSM_DM_PRIV) lets only a privileged caller
 * (or the target's device model) shut another domain down.
 */
TEST(sched_remote_shutdown)
{
    struct sched_remote_shutdown rs = { .domain_id = 100, .reason = SHUTDOWN_poweroff };

    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -ESRCH);
    rs.domain_id = DOMID_SELF;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -ESRCH);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, (void *)p), -EFAULT);
    if (privileged())
        return;
    rs.domain_id = 0;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -EPERM);
    rs.reason = SHUTDOWN_crash;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -EPERM);
}

/*
 * SCHEDOP_pin_override: the hardware domain only (-EPERM before the pointer, else
 * -EFAULT). While pinned, VCPUOP_get_physid answers, so its output pointer is checked
 * (-EFAULT); for a vCPU not pinned, or not the hardware domain's, it is -EINVAL
 * before the pointer (is_hwdom_pinned_vcpu; on one CPU domain 0's vCPU counts as
 * pinned already).
 */
TEST(pin_override_and_get_physid)
{
    struct sched_pin_override po = { .pcpu = 0 };

    if (!privileged()) {
        EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_vcpu_op(VCPUOP_get_physid, 0, (void *)p), -EINVAL);
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_pin_override, (void *)p), -EPERM);
        CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_pin_override, &po), -EPERM);
        return;
    }
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_pin_override, (void *)p), -EFAULT);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_pin_override, &po), 0);
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_vcpu_op(VCPUOP_get_physid, 0, (void *)p), -EFAULT);
    po.pcpu = -1;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_pin_override, &po), 0);
}

/* ---- memory management ---- */

TEST(update_va_mapping_bad_va)
{
    uint64_t pte = (pfn_to_mfn(0) << PAGE_SHIFT) | _PAGE_PRESENT;

    /* No L1 there, or not the guest's to map. */
    CHECK_EQ(HYPERVISOR_update_va_mapping(UNMAPPED, pte, UVMF_INVLPG), -EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(0xffff830000000000UL, pte, UVMF_INVLPG), -EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(MACH2PHYS_VIRT_START, pte, UVMF_INVLPG), -EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(0x8000000000000000UL, pte, UVMF_INVLPG), -EINVAL);
}

/* A vCPU bitmap that cannot be read: the entry has changed, the call fails (NULL is
 * UVMF_LOCAL, not a bitmap). */
TEST(update_va_mapping_bad_vcpumask)
{
    uint64_t pte = image_mfn(scratch_page) << PAGE_SHIFT | _PAGE_PRESENT | _PAGE_RW |
                   _PAGE_ACCESSED | _PAGE_DIRTY;

    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_update_va_mapping((ulong)scratch_page, pte,
                                                        UVMF_TLB_FLUSH | (p & ~3UL)),
                 p ? -EFAULT : 0);
    scratch_restore();
}

TEST(mmu_update_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_mmu_update((void *)p, 1, NULL, DOMID_SELF), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_mmu_update((void *)p, 0, NULL, DOMID_SELF),
                 xen_addr_ok(p) ? 0 : -EFAULT);
}

TEST(mmuext_op_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_mmuext_op((void *)p, 1, NULL, DOMID_SELF), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_mmuext_op((void *)p, 0, NULL, DOMID_SELF),
                 xen_addr_ok(p) ? 0 : -EFAULT);
}

/* An unreadable vCPU bitmap in TLB_FLUSH_MULTI / INVLPG_MULTI is -EINVAL, not -EFAULT
 * (do_mmuext_op maps vcpumask_to_pcpumask's failure so). */
TEST(mmuext_op_bad_vcpumask)
{
    struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_MULTI };

    EACH_BAD_PTR(BP_INPUT, (op.arg2.vcpumask.p = p,
                            HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF)), -EINVAL);
    op.cmd = MMUEXT_INVLPG_MULTI;
    op.arg1.linear_addr = (ulong)scratch_page;
    EACH_BAD_PTR(BP_INPUT, (op.arg2.vcpumask.p = p,
                            HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF)), -EINVAL);
}

TEST(mmuext_op_bad_cmd)
{
    struct mmuext_op op = { .cmd = 99 };
    unsigned int done = 0x55;

    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, &done, DOMID_SELF), -ENOSYS);
    CHECK_EQ(done, 0);
}

/* With nothing to do, a bad "done" pointer is never written. */
TEST(mmu_update_zero_count_bad_done)
{
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_mmu_update(NULL, 0, (void *)p, DOMID_SELF), 0);
}

/* With work done, a "done" that cannot be written does not change the result. */
TEST(batch_bad_done)
{
    struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    uint64_t mfn = image_mfn(scratch_page);
    struct mmu_update u = { .ptr = mfn << PAGE_SHIFT | MMU_MACHPHYS_UPDATE,
                            .val = ((ulong)scratch_page - GUEST_VIRT_BASE) >> PAGE_SHIFT };

    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_mmuext_op(&flush, 1, (void *)p, DOMID_SELF), 0);
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_mmu_update(&u, 1, (void *)p, DOMID_SELF), 0);
    CHECK_EQ(M2P[mfn], u.val);
}

/* ---- event channels ---- */

TEST(event_channel_op)
{
    static const int cmds[] = { EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq,
                                EVTCHNOP_bind_pirq, EVTCHNOP_close, EVTCHNOP_send,
                                EVTCHNOP_status, EVTCHNOP_alloc_unbound, EVTCHNOP_bind_ipi,
                                EVTCHNOP_bind_vcpu, EVTCHNOP_unmask, EVTCHNOP_reset,
                                EVTCHNOP_init_control, EVTCHNOP_expand_array,
                                EVTCHNOP_set_priority };

    /* Every command copies its argument in before anything else. */
    for (size_t c = 0; c < ARRAY_SIZE(cmds); c++)
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_event_channel_op(cmds[c], (void *)p), -EFAULT);
    CHECK_EQ(HYPERVISOR_event_channel_op(99, NULL), -ENOSYS);
}

TEST(event_channel_send_bad_port)
{
    struct evtchn_send s = { .port = 5000 };

    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -EINVAL);
    s.port = 0;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -EINVAL);
}

/* ---- vcpu_op ---- */

TEST(vcpu_op)
{
    static const int in[] = { VCPUOP_initialise, VCPUOP_register_runstate_memory_area,
                              VCPUOP_set_periodic_timer, VCPUOP_set_singleshot_timer,
                              VCPUOP_register_vcpu_info,
                              VCPUOP_register_vcpu_time_memory_area };

    for (size_t c = 0; c < ARRAY_SIZE(in); c++) {
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_vcpu_op(in[c], 0, (void *)p), -EFAULT);
        /* The vCPU id comes first (do_vcpu_op: domain_vcpu). */
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_vcpu_op(in[c], 1, (void *)p), -ENOENT);
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_vcpu_op(in[c], 0xffffffffU, (void *)p), -ENOENT);
    }
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, (void *)p), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffffU, NULL), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(99, 0, NULL), -ENOSYS);
}

/*
 * The runstate and time areas: only the address's start is checked when registered
 * (guest_handle_okay, -EFAULT for the hypervisor's range and non-canonical); any other
 * address is taken, and copies that fail later are dropped. NULL stops them.
 */
TEST(vcpu_areas_bad_address)
{
    struct vcpu_register_runstate_memory_area ra;
    struct vcpu_register_time_memory_area ta;

    EACH_BAD_PTR(BP_OUTPUT, (ra.addr.p = p, HYPERVISOR_vcpu_op(
                                 VCPUOP_register_runstate_memory_area, 0, &ra)),
                 xen_addr_ok(p) ? 0 : -EFAULT);
    EACH_BAD_PTR(BP_OUTPUT, (ta.addr.p = p, HYPERVISOR_vcpu_op(
                                 VCPUOP_register_vcpu_time_memory_area, 0, &ta)),
                 xen_addr_ok(p) ? 0 : -EFAULT);
    ra.addr.p = ta.addr.p = 0;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &ta), 0);
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL); /* a switch with the areas gone */
}

/* ---- callback_op, physdev_op, platform_op ---- */

TEST(callback_op)
{
    struct callback_register cb = { .type = 99, .address = trap_handler(0) };
    struct callback_unregister un = { .type = 99 };

    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_callback_op(CALLBACKOP_register, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_callback_op(CALLBACKOP_unregister, (void *)p), -EFAULT);
    /* An unknown callback type is -ENOSYS, like an unknown command. */
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), -ENOSYS);
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_unregister, &un), -ENOSYS);
    /* The event callback cannot be unregistered (unregister_guest_callback). */
    un.type = CALLBACKTYPE_event;
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_unregister, &un), -EINVAL);
    CHECK_EQ(HYPERVISOR_callback_op(99, &cb), -ENOSYS);
}

TEST(physdev_op)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, (void *)p), -EFAULT);
    CHECK_EQ(HYPERVISOR_physdev_op(99, NULL), -ENOSYS);
}

/*
 * do_platform_op (x86/platform_hypercall.c): the structure is copied in (-EFAULT),
 * its interface version checked (-EACCES), then xsm_platform_op (XSM_PRIV: -EPERM for
 * a domU), then the command (-ENOSYS for one that does not exist).
 */
TEST(platform_op)
{
    struct xen_platform_op op = { .cmd = 0x7fff, .interface_version = XENPF_INTERFACE_VERSION };

    EACH_BAD_PTR(BP_INPUT, platform_op(p), -EFAULT);
    CHECK_EQ(platform_op((ulong)&op), privileged() ? -ENOSYS : -EPERM);
    op.cmd = XENPF_settime64;
    op.interface_version = 0;
    CHECK_EQ(platform_op((ulong)&op), -EACCES);
    if (!privileged()) {
        op.interface_version = XENPF_INTERFACE_VERSION;
        CHECK_EQ(platform_op((ulong)&op), -EPERM);
        op.cmd = XENPF_settime32;
        CHECK_EQ(platform_op((ulong)&op), -EPERM);
    }
}

/* ---- memory_op ---- */

TEST(memory_op)
{
    CHECK_EQ(HYPERVISOR_memory_op(99, NULL), -ENOSYS);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_maximum_reservation, (void *)p),
                 -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_current_reservation, (void *)p),
                 -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_maximum_gpfn, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_memory_op(XENMEM_machphys_mapping, (void *)p),
                 -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_exchange, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_memory_map, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_set_memory_map, (void *)p), -EFAULT);
}

/* Another domain's reservation or memory map: XSM_TARGET, -EPERM for a domU. */
TEST(memory_op_other_domain)
{
    struct xen_memory_domain d0 = { .domid = 0 };
    static struct xen_e820_entry e = { .addr = 0, .size = 1 << 20, .type = XEN_E820_RAM };
    struct xen_foreign_memory_map fm = { .domid = 0, .map = { .nr_entries = 1 } };

    if (privileged())
        SKIP("domain 0 may: as a domU in domain_tests.py");
    enso_set_guest_handle(fm.map.buffer, &e);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &d0), -EPERM);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_reservation, &d0), -EPERM);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &d0), -EPERM);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), -EPERM);
}

/*
 * increase/decrease_reservation and populate_physmap answer with a count: a struct
 * that cannot be read gives back the start extent the command carried (bits 6 up), as
 * do_memory_op returns start_extent on every early failure.
 */
TEST(reservation_bad_ptr)
{
    static const unsigned int ops[] = { XENMEM_increase_reservation,
                                        XENMEM_decrease_reservation,
                                        XENMEM_populate_physmap };

    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(ops[i], (void *)p), 0);
        EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(ops[i] | (3 << 6), (void *)p), 3);
    }
}

/*
 * A bad extent list: 0 extents done. decrease and populate read it (so nothing is
 * given back or added); increase writes it, after the frame is allocated when the
 * list's start passes guest_handle_subrange_okay (then that frame stays, unreported:
 * not when the domain is at its maximum, as domain 0 here is). NULL is "do not tell
 * me" for increase only.
 */
TEST(reservation_bad_extent_list)
{
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
    struct xen_memory_domain self = { .domid = DOMID_SELF };
    long before = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);

    CHECK(before > 0);
    EACH_BAD_PTR(BP_INPUT, (r.extent_start.p = p,
                            HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r)), 0);
    EACH_BAD_PTR(BP_INPUT, (r.extent_start.p = p,
                            HYPERVISOR_memory_op(XENMEM_populate_physmap, &r)), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), before);
    EACH_BAD_PTR(BP_OUTPUT | BP_NO_NULL,
                 (r.extent_start.p = p,
                  HYPERVISOR_memory_op(XENMEM_increase_reservation, &r)), 0);
}

/*
 * exchange: an input list that cannot be read fails the first chunk before anything
 * moves (-EFAULT, nr_exchanged 0). An output list __addr_ok refuses (hypervisor
 * range, non-canonical) is refused up front; any other is only found bad after the
 * chunk has been exchanged (memory_exchange: the frame given is gone, the new one is
 * the domain's but not reported), still -EFAULT with nr_exchanged 0.
 */
TEST(exchange_bad_lists)
{
    xen_pfn_t in = 0, out = 0x4000;
    struct xen_memory_exchange x = {
        .in = { .nr_extents = 1, .domid = DOMID_SELF },
        .out = { .nr_extents = 1, .domid = DOMID_SELF },
    };

    enso_set_guest_handle(x.out.extent_start, &out);
    EACH_BAD_PTR(BP_INPUT, (x.in.extent_start.p = p, x.nr_exchanged = 0,
                            HYPERVISOR_memory_op(XENMEM_exchange, &x)), -EFAULT);
    CHECK_EQ(x.nr_exchanged, 0);
    CHECK_EQ(out, 0x4000);
    enso_set_guest_handle(x.in.extent_start, &in);
    for (size_t i = 0; i < ARRAY_SIZE(bad_ptrs); i++) {
        ulong p = bad_ptr_addr(i);
        long rc;

        in = frame_alloc();
        CHECK(in);
        x.out.extent_start.p = p;
        x.nr_exchanged = 0;
        rc = HYPERVISOR_memory_op(XENMEM_exchange, &x);
        CHECKF(rc == -EFAULT, "%s output list %#lx: %ld", bad_ptrs[i].what, p, rc);
        CHECK_EQ(x.nr_exchanged, 0);
        if (!xen_addr_ok(p))
            frame_free(in); /* refused before the chunk: still ours */
    }
}

/*
 * memory_map / set_memory_map: the domain's own map (none for a PV domain until set:
 * -ENOSYS). set_memory_map on itself is allowed to any domain (XSM_TARGET).
 * Buffers of zero entries are never touched (a copy of 0 bytes cannot fail), and a
 * map of zero entries reads as none again.
 */
TEST(memory_map_bad_buffer)
{
    static struct xen_e820_entry e[8] = { { .addr = 0, .size = 64 << 20,
                                            .type = XEN_E820_RAM } };
    struct xen_foreign_memory_map fm = { .domid = DOMID_SELF, .map = { .nr_entries = 1 } };
    struct xen_memory_map m = { .nr_entries = 7 };

    enso_set_guest_handle(m.buffer, e + 1);
    INFO("memory_map before any set: %ld", HYPERVISOR_memory_op(XENMEM_memory_map, &m));
    EACH_BAD_PTR(BP_INPUT, (fm.map.buffer.p = p,
                            HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm)), -EFAULT);
    fm.map.nr_entries = 0;
    EACH_BAD_PTR(BP_INPUT, (fm.map.buffer.p = p,
                            HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm)), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &m), -ENOSYS);
    fm.map.nr_entries = 1;
    enso_set_guest_handle(fm.map.buffer, e);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), 0);
    EACH_BAD_PTR(BP_OUTPUT, (m.nr_entries = 2, m.buffer.p = p,
                             HYPERVISOR_memory_op(XENMEM_memory_map, &m)), -EFAULT);
    EACH_BAD_PTR(BP_OUTPUT, (m.nr_entries = 0, m.buffer.p = p,
                             HYPERVISOR_memory_op(XENMEM_memory_map, &m)), 0);
    m.nr_entries = 2;
    enso_set_guest_handle(m.buffer, e + 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &m), 0);
    CHECK_EQ(m.nr_entries, 1);
    CHECK(!memcmp(&e[0], &e[1], sizeof(e[0])));
}

/* ---- typed input (domain_tests.py) ---- */

/*
 * With console_read=1: waits for a typed line. While nothing is waiting, CONSOLEIO_read
 * into NULL gives 0; once something is, every bad buffer gives -EFAULT and consumes
 * nothing, and a good buffer then gets the line as typed.
 */
TEST(console_read_bad_ptr_input_waiting)
{
    char buf[64], line[64];
    size_t n = 0;
    long rc;

    if (!cmdline_get_num("console_read", 0) || !privileged())
        SKIP("needs typed input: console_read=1 in domain 0 (domain_tests.py)");
    printf("hostile: waiting for input\n");
    while (!(rc = HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), NULL)))
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK_EQ(rc, -EFAULT);
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_console_io(CONSOLEIO_read, 8, (void *)p), -EFAULT);
    while (n < sizeof(line) - 1 && (!n || line[n - 1] != '\r')) {
        rc = HYPERVISOR_console_io(CONSOLEIO_read, (unsigned int)(sizeof(line) - 1 - n),
                                   line + n);
        CHECK(rc >= 0);
        n += (size_t)rc;
        if (!rc)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    line[n] = 0;
    CHECKF(n == 14 && !memcmp(line, "hostile-input\r", 14), "read '%s'", line);
}

TEST(still_alive)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL), (4 << 16) | 17);
    CHECK_TRAP(catch_trap(do_int3, NULL, &r), r, 3);
}
