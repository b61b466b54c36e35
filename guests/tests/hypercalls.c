/*
 * The simple hypercalls, with Xen 4.17's exact answers for a 64-bit PV domain 0:
 * xen_version, console_io, sched_op yield, vm_assist, multicall, numbers that do not
 * exist, and the raw-syscall way in giving the same results as the hypercall page.
 */
#include <guest/test.h>
#include <public/features.h>

/* What Xen 4.17 reports in XENVER_get_features submap 0 for a PV domain 0. */
#define DOM0_FEATURES ((1U << XENFEAT_mmu_pt_update_preserve_ad) |     \
                       (1U << XENFEAT_highmem_assist) |                \
                       (1U << XENFEAT_gnttab_map_avail_bits) |         \
                       (1U << XENFEAT_dom0) |                          \
                       (1U << XENFEAT_memory_op_vnode_supported) |     \
                       (1U << XENFEAT_direct_mapped))

static bool nul_within(const char *s, size_t n)
{
    return strnlen(s, n) < n;
}

TEST(version)
{
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);

    INFO("version %ld.%ld", v >> 16, v & 0xffff);
    CHECK_EQ(v, (4 << 16) | 17);
}

TEST(version_ignores_arg)
{
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, (void *)0x1234), (4 << 16) | 17);
}

TEST(extraversion)
{
    xen_extraversion_t ev;

    memset(ev, 0x55, sizeof(ev));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, ev), 0);
    CHECK(nul_within(ev, sizeof(ev)));
    INFO("extraversion \"%s\"", ev);
    CHECK_EQ(ev[0], '.');
    /* The whole buffer is written: NUL padded. */
    for (size_t i = strlen(ev); i < sizeof(ev); i++)
        CHECK_EQ(ev[i], 0);
}

TEST(capabilities)
{
    static xen_capabilities_info_t caps;

    memset(caps, 0x55, sizeof(caps));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_capabilities, caps), 0);
    CHECK(nul_within(caps, sizeof(caps)));
    INFO("capabilities \"%s\"", caps);
    CHECK(strstr(caps, "xen-3.0-x86_64") != NULL);
    for (size_t i = strlen(caps); i < sizeof(caps); i++)
        CHECK_EQ(caps[i], 0);
}

TEST(changeset)
{
    xen_changeset_info_t cs;

    memset(cs, 0x55, sizeof(cs));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_changeset, cs), 0);
    CHECK(nul_within(cs, sizeof(cs)));
    INFO("changeset \"%s\"", cs);
    for (size_t i = strlen(cs); i < sizeof(cs); i++)
        CHECK_EQ(cs[i], 0);
}

TEST(compile_info)
{
    struct xen_compile_info ci;

    memset(&ci, 0x55, sizeof(ci));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_compile_info, &ci), 0);
    CHECK(nul_within(ci.compiler, sizeof(ci.compiler)));
    CHECK(nul_within(ci.compile_by, sizeof(ci.compile_by)));
    CHECK(nul_within(ci.compile_domain, sizeof(ci.compile_domain)));
    CHECK(nul_within(ci.compile_date, sizeof(ci.compile_date)));
    INFO("compiler \"%s\" by \"%s\" domain \"%s\" date \"%s\"", ci.compiler, ci.compile_by,
         ci.compile_domain, ci.compile_date);
}

TEST(platform_parameters)
{
    struct xen_platform_parameters pp = { .virt_start = 0 };

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_platform_parameters, &pp), 0);
    CHECK_EQ(pp.virt_start, HYPERVISOR_VIRT_START);
}

TEST(get_features_submap0)
{
    struct xen_feature_info fi = { .submap_idx = 0, .submap = 0xdeadbeef };

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
    INFO("get_features submap 0 = %#x", fi.submap);
    CHECK_EQ(fi.submap_idx, 0);
    CHECK_EQ(fi.submap, DOM0_FEATURES);
}

TEST(get_features_submap1_einval)
{
    struct xen_feature_info fi = { .submap_idx = 1, .submap = 0xdeadbeef };

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), -EINVAL);
    CHECK_EQ(fi.submap, 0xdeadbeef);
    fi.submap_idx = 0xffffffff;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), -EINVAL);
}

TEST(pagesize)
{
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);
    /* A non-NULL argument is refused. */
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, (void *)0x1000), -EINVAL);
}

TEST(guest_handle)
{
    xen_domain_handle_t h;

    memset(h, 0x55, sizeof(h));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_guest_handle, h), 0);
    /* Domain 0 is created with an all-zero handle. */
    for (size_t i = 0; i < sizeof(h); i++)
        CHECK_EQ(h[i], 0);
}

TEST(commandline)
{
    static xen_commandline_t cl;

    memset(cl, 0x55, sizeof(cl));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, cl), 0);
    CHECK(nul_within(cl, sizeof(cl)));
    INFO("hypervisor command line \"%s\"", cl);
    CHECK(strstr(cl, "dom0_mem=64M") != NULL);
}

TEST(build_id)
{
    static struct {
        struct xen_build_id id;
        unsigned char buf[256];
    } b;
    long len = HYPERVISOR_xen_version(XENVER_build_id, NULL);

    INFO("build_id length %ld", len);
    CHECK(len > 0 && len <= 256);
    b.id.len = 0;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_build_id, &b), -EINVAL);
    b.id.len = (uint32_t)len - 1;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_build_id, &b), -ENOBUFS);
    b.id.len = sizeof(b.buf);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_build_id, &b), len);
}

TEST(version_unknown_cmd)
{
    static const int cmds[] = { 11, 12, 100, 0x7fffffff, -1 };

    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
        CHECKF(HYPERVISOR_xen_version(cmds[i], NULL) == -ENOSYS, "cmd %d: %ld", cmds[i],
               HYPERVISOR_xen_version(cmds[i], NULL));
}

TEST(console_write)
{
    static const char msg[] = "console_io write test\n";

    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), 0);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0, msg), 0);
}

TEST(console_read)
{
    char buf[16];
    long rc = HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf);

    /* Nobody types: nothing to read. */
    CHECK_EQ(rc, 0);
}

TEST(console_bad_cmd)
{
    static const int cmds[] = { 2, 3, 100, -1 };

    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
        CHECKF(HYPERVISOR_console_io(cmds[i], 1, "x") == -ENOSYS, "cmd %d: %ld", cmds[i],
               HYPERVISOR_console_io(cmds[i], 1, "x"));
}

TEST(sched_yield)
{
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
    /* The argument is not looked at. */
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_yield, (void *)0xdead0000), 0);
}

TEST(sched_bad_cmd)
{
    CHECK_EQ(HYPERVISOR_sched_op(8, NULL), -ENOSYS);
    CHECK_EQ(HYPERVISOR_sched_op(100, NULL), -ENOSYS);
    CHECK_EQ(HYPERVISOR_sched_op(-1, NULL), -ENOSYS);
}

TEST(vm_assist_valid)
{
    static const unsigned int types[] = {
        VMASST_TYPE_4gb_segments, VMASST_TYPE_4gb_segments_notify,
        VMASST_TYPE_writable_pagetables, VMASST_TYPE_pae_extended_cr3,
        VMASST_TYPE_architectural_iopl, VMASST_TYPE_runstate_update_flag,
        VMASST_TYPE_m2p_strict,
    };

    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        long en = HYPERVISOR_vm_assist(VMASST_CMD_enable, types[i]);
        long dis = HYPERVISOR_vm_assist(VMASST_CMD_disable, types[i]);

        CHECKF(en == 0 && dis == 0, "type %u: enable %ld, disable %ld", types[i], en, dis);
    }
    /* Leave the assist Linux relies on switched on. */
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
}

TEST(vm_assist_invalid_type)
{
    static const unsigned int types[] = { 6, 7, 31, 33, 63, 64, 1000 };

    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        long en = HYPERVISOR_vm_assist(VMASST_CMD_enable, types[i]);
        long dis = HYPERVISOR_vm_assist(VMASST_CMD_disable, types[i]);

        CHECKF(en == -EINVAL && dis == -EINVAL, "type %u: enable %ld, disable %ld",
               types[i], en, dis);
    }
}

TEST(vm_assist_invalid_cmd)
{
    CHECK_EQ(HYPERVISOR_vm_assist(2, VMASST_TYPE_writable_pagetables), -ENOSYS);
    CHECK_EQ(HYPERVISOR_vm_assist(100, VMASST_TYPE_writable_pagetables), -ENOSYS);
    /* The type is checked first. */
    CHECK_EQ(HYPERVISOR_vm_assist(2, 1000), -EINVAL);
}

TEST(unknown_hypercall_page)
{
    static const unsigned int nrs[] = { 11, 43, 44, 45, 46, 47, 56, 60, 100, 127 };

    for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
        long rc = hypercall_via_page(nrs[i], 0, 0, 0, 0, 0);

        CHECKF(rc == -ENOSYS, "hypercall %u: %ld", nrs[i], rc);
    }
}

TEST(unknown_hypercall_syscall)
{
    static const unsigned long nrs[] = { 11, 60, 127, 128, 255, 256, 1000, 0xffffffffUL,
                                         (1UL << 32) | __HYPERVISOR_xen_version,
                                         ~0UL };

    for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
        long rc = hypercall_via_syscall(nrs[i], 0, 0, 0, 0, 0);

        CHECKF(rc == -ENOSYS, "hypercall %#lx: %ld", nrs[i], rc);
    }
}

/* The same questions through a bare syscall get the same answers. */
TEST(syscall_path_same_results)
{
    struct xen_feature_info a = { 0 }, b = { 0 };
    xen_extraversion_t ea, eb;

    hc_mode = HC_SYSCALL;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL), (4 << 16) | 17);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &b), 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, eb), 0);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, 6), -EINVAL);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0, ""), 0);
    hc_mode = HC_PAGE;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &a), 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, ea), 0);
    CHECK_EQ(a.submap, b.submap);
    CHECK(!memcmp(ea, eb, sizeof(ea)));
}

/*
 * Registers across a hypercall: the callee-saved ones survive either way in; a bare
 * syscall loses rcx and r11 (the CPU's doing), the page's stub saves them.
 */
struct regs_probe {
    uint64_t rbx, rbp, r12, r13, r14, r15, rcx, r11, after_syscall;
};

/* Sets known values, makes the hypercall with `insn`, stores what came back. */
#define PROBE_REGS(insn, out, rc)                                                      \
    __asm__ __volatile__(                                                              \
        "push %%rbp\n\t"                                                               \
        "push %%rbx\n\t"                                                               \
        "push %%rdi\n\t"                                                               \
        "mov $0x1111111111111111, %%rbx\n\t"                                           \
        "mov $0x2222222222222222, %%rbp\n\t"                                           \
        "mov $0x3333333333333333, %%r12\n\t"                                           \
        "mov $0x4444444444444444, %%r13\n\t"                                           \
        "mov $0x5555555555555555, %%r14\n\t"                                           \
        "mov $0x6666666666666666, %%r15\n\t"                                           \
        "mov $0x7777777777777777, %%rcx\n\t"                                           \
        "mov $0x8888888888888888, %%r11\n\t"                                           \
        "mov %[nr], %%eax\n\t"                                                        \
        "xor %%edi, %%edi\n\t"                                                         \
        "xor %%esi, %%esi\n\t"                                                         \
        insn "\n\t"                                                                    \
        "pop %%rdi\n\t"                                                                \
        "mov %%rbx, 0(%%rdi)\n\t"                                                      \
        "mov %%rbp, 8(%%rdi)\n\t"                                                      \
        "mov %%r12, 16(%%rdi)\n\t"                                                     \
        "mov %%r13, 24(%%rdi)\n\t"                                                     \
        "mov %%r14, 32(%%rdi)\n\t"                                                     \
        "mov %%r15, 40(%%rdi)\n\t"                                                     \
        "mov %%rcx, 48(%%rdi)\n\t"                                                     \
        "mov %%r11, 56(%%rdi)\n\t"                                                     \
        "mov %%r9, 64(%%rdi)\n\t"                                                      \
        "pop %%rbx\n\t"                                                                \
        "pop %%rbp"                                                                    \
        : "=&a"(rc)                                                                    \
        : "D"(out), [nr] "i"(__HYPERVISOR_xen_version),                                \
          [off] "i"(__HYPERVISOR_xen_version * 32)                                     \
        : "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",  \
          "memory", "cc")

static long probe_regs(bool raw, struct regs_probe *out)
{
    long rc;

    if (raw)
        PROBE_REGS("lea 3f(%%rip), %%r9\n\tsyscall\n3:", out, rc);
    else
        PROBE_REGS("call hypercall_page + %c[off]", out, rc);
    return rc;
}

TEST(callee_saved_preserved)
{
    struct regs_probe p;

    for (int raw = 0; raw < 2; raw++) {
        CHECK_EQ(probe_regs(raw, &p), (4 << 16) | 17);
        CHECK_EQ(p.rbx, 0x1111111111111111UL);
        CHECK_EQ(p.rbp, 0x2222222222222222UL);
        CHECK_EQ(p.r12, 0x3333333333333333UL);
        CHECK_EQ(p.r13, 0x4444444444444444UL);
        CHECK_EQ(p.r14, 0x5555555555555555UL);
        CHECK_EQ(p.r15, 0x6666666666666666UL);
        if (!raw) {
            CHECK_EQ(p.rcx, 0x7777777777777777UL);
            CHECK_EQ(p.r11, 0x8888888888888888UL);
        } else {
            /* What the syscall instruction left: the return rip and the rflags of the
             * moment (IF, and ZF|PF from the xor before it). */
            CHECK_EQ(p.rcx, p.after_syscall);
            CHECK_EQ(p.r11, X86_EFLAGS_IF | 0x46);
        }
    }
}

TEST(multicall_results)
{
    struct multicall_entry mc[4];

    memset(mc, 0, sizeof(mc));
    mc[0].op = __HYPERVISOR_xen_version;
    mc[0].args[0] = XENVER_version;
    mc[1].op = __HYPERVISOR_sched_op;
    mc[1].args[0] = SCHEDOP_yield;
    mc[2].op = __HYPERVISOR_xen_version;
    mc[2].args[0] = XENVER_pagesize;
    mc[3].op = 60; /* no such hypercall */
    for (int i = 0; i < 4; i++)
        mc[i].result = 0xdeadbeef;
    CHECK_EQ(HYPERVISOR_multicall(mc, 4), 0);
    CHECK_EQ(mc[0].result, (4 << 16) | 17);
    CHECK_EQ(mc[1].result, 0);
    CHECK_EQ(mc[2].result, 4096);
    CHECK_EQ(mc[3].result, -ENOSYS);
    /* op and args come back as they went in. */
    CHECK_EQ(mc[0].op, __HYPERVISOR_xen_version);
    CHECK_EQ(mc[2].args[0], XENVER_pagesize);
}

TEST(multicall_empty)
{
    CHECK_EQ(HYPERVISOR_multicall(NULL, 0), 0);
}

TEST(multicall_via_syscall)
{
    struct multicall_entry mc[2];

    memset(mc, 0, sizeof(mc));
    mc[0].op = __HYPERVISOR_xen_version;
    mc[0].args[0] = XENVER_version;
    mc[1].op = __HYPERVISOR_xen_version;
    mc[1].args[0] = 100;
    hc_mode = HC_SYSCALL;
    CHECK_EQ(HYPERVISOR_multicall(mc, 2), 0);
    CHECK_EQ(mc[0].result, (4 << 16) | 17);
    CHECK_EQ(mc[1].result, -ENOSYS);
}

TEST(multicall_nested_refused)
{
    struct multicall_entry inner[1], outer[1];

    memset(inner, 0, sizeof(inner));
    memset(outer, 0, sizeof(outer));
    inner[0].op = __HYPERVISOR_xen_version;
    inner[0].args[0] = XENVER_version;
    outer[0].op = __HYPERVISOR_multicall;
    outer[0].args[0] = (uint64_t)inner;
    outer[0].args[1] = 1;
    inner[0].result = 0x5555;
    /* The batch itself succeeds; the nested entry fails with -EINVAL, never runs. */
    CHECK_EQ(HYPERVISOR_multicall(outer, 1), 0);
    CHECK_EQ(outer[0].result, -EINVAL);
    CHECK_EQ(inner[0].result, 0x5555);
}

TEST(debugreg_get)
{
    CHECK_EQ(HYPERVISOR_set_debugreg(6, 0xffff0ff0), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(6), 0xffff0ff0);
    CHECK_EQ(HYPERVISOR_get_debugreg(7), 0x400);
    /* CR4.DE is clear: 4 and 5 are 6 and 7 again. */
    CHECK_EQ(HYPERVISOR_get_debugreg(4), 0xffff0ff0);
    CHECK_EQ(HYPERVISOR_get_debugreg(5), 0x400);
    CHECK_EQ(HYPERVISOR_get_debugreg(0), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(8), -ENODEV);
    CHECK_EQ(HYPERVISOR_get_debugreg(-1), -ENODEV);
}

TEST(debugreg_set)
{
    CHECK_EQ(HYPERVISOR_set_debugreg(8, 0), -ENODEV);
    /* Breakpoints only on guest addresses. */
    CHECK_EQ(HYPERVISOR_set_debugreg(0, 0xffff830000000000UL), -EPERM);
    CHECK_EQ(HYPERVISOR_set_debugreg(0, 0x8000000000000000UL), -EPERM);
    CHECK_EQ(HYPERVISOR_set_debugreg(0, (ulong)_text), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(0), (ulong)_text);
    CHECK_EQ(HYPERVISOR_set_debugreg(0, 0), 0);
    /* Reserved bits (the upper halves) must be clear. */
    CHECK_EQ(HYPERVISOR_set_debugreg(7, 0xffffffff00000000UL), -EINVAL);
    CHECK_EQ(HYPERVISOR_set_debugreg(6, ~0UL), -EINVAL);
    CHECK_EQ(HYPERVISOR_get_debugreg(6), 0xffff0ff0);
    CHECK_EQ(HYPERVISOR_get_debugreg(7), 0x400);
}

TEST(fpu_taskswitch_values)
{
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(2), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(-1), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
}
