/*
 * Hostile arguments: every pointer-taking hypercall the library and the other kernels
 * use, given NULL, an unmapped address, a non-canonical address, an address in the
 * hypervisor's range and (where the hypervisor writes) the read-only M2P; then bad
 * commands, indices and contents. Xen answers -EFAULT for a bad pointer and never
 * crashes the domain: the last test is that we are still here.
 */
#include <guest/test.h>

struct bad_ptr {
    const char *what;
    ulong addr;
    bool readable; /* reading it succeeds: only a bad pointer for output */
};

#define UNMAPPED (GUEST_VIRT_BASE + (512UL << 20))

static const struct bad_ptr bad_ptrs[] = {
    { "NULL", 0, false },
    { "unmapped", UNMAPPED, false },
    { "non-canonical", 0x8000000000000000UL, false },
    { "non-canonical low", 0x0000800000000000UL, false },
    { "hypervisor", 0xffff830000000000UL, false },
    { "hypervisor top", 0xffff87fffffff000UL, false },
    { "M2P", MACH2PHYS_VIRT_START + 4096, true },
};

/* Flags of EACH_BAD_PTR: also try the readable M2P (the pointer is an output); leave
 * NULL out (it means something for this call). */
#define BP_INPUT 0
#define BP_OUTPUT 1
#define BP_NO_NULL 2

/*
 * Evaluates expr with p set to each bad pointer and checks the result; the test fails
 * naming the pointer.
 */
#define EACH_BAD_PTR(flags, expr, want)                                                \
    do {                                                                               \
        for (size_t i_ = 0; i_ < ARRAY_SIZE(bad_ptrs); i_++) {                         \
            ulong p = bad_ptrs[i_].addr;                                               \
            long rc_;                                                                  \
            if (bad_ptrs[i_].readable && !((flags) & BP_OUTPUT))                       \
                continue;                                                              \
            if (!p && ((flags) & BP_NO_NULL))                                          \
                continue;                                                              \
            rc_ = (expr);                                                              \
            CHECKF(rc_ == (want), "%s pointer %#lx: %ld, expected %ld",                \
                   bad_ptrs[i_].what, p, rc_, (long)(want));                           \
        }                                                                              \
    } while (0)

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

/* ---- console_io ---- */

TEST(console_write_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_console_io(CONSOLEIO_write, 8, (void *)p), -EFAULT);
}

TEST(console_write_crossing_into_unmapped)
{
    char *buf = (char *)last_page() + PAGE_SIZE - 4;

    memcpy(buf, "...", 4);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 8, buf), -EFAULT);
}

/* Nothing is waiting on the serial line, so nothing is copied and no pointer is
 * looked at: even bad ones give 0. */
TEST(console_read_bad_ptr_nothing_to_read)
{
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_console_io(CONSOLEIO_read, 8, (void *)p), 0);
}

TEST(console_read_count_too_big)
{
    char buf[8];

    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0x80000000U, buf), -E2BIG);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0xffffffffU, buf), -E2BIG);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0x7fffffffU, buf), 0);
}

/* ---- set_trap_table ---- */

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

/* ---- xen_version ---- */

TEST(xen_version_bad_ptr)
{
    static const int cmds[] = { XENVER_extraversion, XENVER_compile_info,
                                XENVER_capabilities, XENVER_changeset,
                                XENVER_platform_parameters, XENVER_get_features,
                                XENVER_guest_handle, XENVER_commandline,
                                XENVER_build_id };

    for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
        /* get_features and build_id read before they write: M2P input is fine for
         * build_id's length (it is big enough), so skip it there. */
        bool output = cmds[c] != XENVER_build_id;

        if (cmds[c] == XENVER_build_id) {
            for (size_t i = 0; i < ARRAY_SIZE(bad_ptrs); i++) {
                long rc;

                /* NULL asks for the length. */
                if (!bad_ptrs[i].addr || bad_ptrs[i].readable)
                    continue;
                rc = HYPERVISOR_xen_version(cmds[c], (void *)bad_ptrs[i].addr);
                CHECKF(rc == -EFAULT, "build_id, %s pointer: %ld", bad_ptrs[i].what, rc);
            }
            continue;
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad_ptrs); i++) {
            long rc;

            if (bad_ptrs[i].readable && !output)
                continue;
            rc = HYPERVISOR_xen_version(cmds[c], (void *)bad_ptrs[i].addr);
            CHECKF(rc == -EFAULT, "cmd %d, %s pointer: %ld", cmds[c], bad_ptrs[i].what, rc);
        }
    }
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
}

/*
 * The M2P as a multicall list: readable, so the entry runs, but its result cannot be
 * written back. Built where the M2P holds our own pfns 17, 18, 19...: op 17
 * (xen_version), args[0] 19 (no such command).
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
}

TEST(sched_poll_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_poll, (void *)p), -EFAULT);
}

TEST(sched_poll_bad_ports)
{
    struct sched_poll sp = { .nr_ports = 1, .timeout = 1 };

    EACH_BAD_PTR(BP_INPUT, (sp.ports.p = p, HYPERVISOR_sched_op(SCHEDOP_poll, &sp)), -EFAULT);
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

TEST(sched_remote_shutdown_no_such_domain)
{
    struct sched_remote_shutdown rs = { .domain_id = 100, .reason = SHUTDOWN_poweroff };

    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -ESRCH);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, (void *)p), -EFAULT);
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

TEST(mmu_update_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_mmu_update((void *)p, 1, NULL, DOMID_SELF), -EFAULT);
}

TEST(mmuext_op_bad_ptr)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_mmuext_op((void *)p, 1, NULL, DOMID_SELF), -EFAULT);
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

/* ---- other sub-op hypercalls: bad pointers and commands ---- */

TEST(event_channel_op)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_event_channel_op(EVTCHNOP_send, (void *)p), -EFAULT);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_event_channel_op(EVTCHNOP_status, (void *)p), -EFAULT);
    CHECK_EQ(HYPERVISOR_event_channel_op(99, NULL), -ENOSYS);
}

TEST(event_channel_send_bad_port)
{
    struct evtchn_send s = { .port = 5000 };

    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -EINVAL);
    s.port = 0;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -EINVAL);
}

TEST(vcpu_op)
{
    EACH_BAD_PTR(BP_OUTPUT, HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)p), -EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffffU, NULL), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(99, 0, NULL), -ENOSYS);
}

TEST(callback_op)
{
    struct callback_register cb = { .type = 99, .address = trap_handler(0) };

    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_callback_op(CALLBACKOP_register, (void *)p), -EFAULT);
    /* An unknown callback type is -ENOSYS, like an unknown command. */
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), -ENOSYS);
    CHECK_EQ(HYPERVISOR_callback_op(99, &cb), -ENOSYS);
}

TEST(physdev_op)
{
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, (void *)p), -EFAULT);
    CHECK_EQ(HYPERVISOR_physdev_op(99, NULL), -ENOSYS);
}

TEST(memory_op)
{
    CHECK_EQ(HYPERVISOR_memory_op(99, NULL), -ENOSYS);
    EACH_BAD_PTR(BP_INPUT, HYPERVISOR_memory_op(XENMEM_maximum_reservation, (void *)p),
                 -EFAULT);
}

TEST(still_alive)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL), (4 << 16) | 17);
    CHECK_TRAP(catch_trap(do_int3, NULL, &r), r, 3);
}
