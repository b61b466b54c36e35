/*
 * The simple hypercalls, with Xen 4.17's exact answers for a 64-bit PV domain 0:
 * xen_version, console_io, sched_op yield, vm_assist, multicall, numbers that do not
 * exist, and the raw-syscall way in giving the same results as the hypercall page.
 * Also the debug registers at work: watchpoints firing in the guest, and firing while
 * the hypervisor itself touches the watched memory (not the guest's business).
 */
#include <guest/events.h>
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

/* ---- debug registers at work ---- */

#define DR6_DEFAULT 0xffff0ff0UL
#define DR7_DEFAULT 0x400UL
#define DR7_GD (1UL << 13)
/* Breakpoint n enabled (local), its type (RW) and length (LEN) fields. */
#define DR7_L(n) (1UL << (2 * (n)))
#define DR7_RW(n, rw) ((ulong)(rw) << (16 + 4 * (n)))
#define DR7_LEN(n, len) ((ulong)(len) << (18 + 4 * (n)))
#define RW_EXEC 0
#define RW_WRITE 1
#define RW_IO 2
#define RW_ACCESS 3
#define LEN_1 0
#define LEN_8 2
/* A data breakpoint n on 8 bytes written (or accessed). */
#define DR7_WATCH8(n, rw) (DR7_L(n) | DR7_RW(n, rw) | DR7_LEN(n, LEN_8))

/* The store (or load) under test, to (from) rdi: a #DB comes after it, a trap. */
PROBE(dr_store, INSN(dr_store) "movq $1, (%rdi)\n\t" END(dr_store) "nop");
PROBE(dr_load, INSN(dr_load) "mov (%rdi), %rax\n\t" END(dr_load) "nop");
/* int3 on a stack of its own: rdi is its top, the bounce frame goes right below. */
PROBE(dr_int3_on, "mov %rsp, %rax\n\tmov %rdi, %rsp\n\t" INSN(dr_int3_on) "int3\n\t"
                  END(dr_int3_on) "mov %rax, %rsp");

#define AT_END(rec, name) ((rec).rip == (uint64_t)probe_##name##_end)

static uint64_t watched[4] __aligned(64);

/* Everything off again: DR7, the addresses, DR6 (the test's own checks come after). */
static void dr_clear(void)
{
    HYPERVISOR_set_debugreg(7, 0);
    for (int i = 0; i < 4; i++)
        HYPERVISOR_set_debugreg(i, 0);
    HYPERVISOR_set_debugreg(6, DR6_DEFAULT);
}

/* Breakpoint n on addr, then DR7; the first failing set_debugreg's result, or 0. */
static long dr_arm(int n, ulong addr, ulong dr7)
{
    long rc = HYPERVISOR_set_debugreg(n, addr);

    return rc ? rc : HYPERVISOR_set_debugreg(7, dr7);
}

/* Xen's fixed bits: DR6 bit 12 reads 0 and 4-11, 16-31 read 1; DR7 bit 10 reads 1 and
 * 11, 12, 14, 15 read 0. Any 32-bit value is accepted that way. */
TEST(debugreg_reserved_bits)
{
    CHECK_EQ(HYPERVISOR_set_debugreg(6, 0), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(6), DR6_DEFAULT);
    CHECK_EQ(HYPERVISOR_set_debugreg(6, 0x500f), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(6), 0xffff4fffUL);
    CHECK_EQ(HYPERVISOR_set_debugreg(6, DR6_DEFAULT), 0);
    CHECK_EQ(HYPERVISOR_set_debugreg(7, 0xd800), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(7), DR7_DEFAULT);
    CHECK_EQ(HYPERVISOR_set_debugreg(7, 0), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(7), DR7_DEFAULT);
}

/* General detect is the hypervisor's: -EPERM, with or without breakpoints enabled. */
TEST(debugreg_gd_eperm)
{
    CHECK_EQ(HYPERVISOR_set_debugreg(7, DR7_GD), -EPERM);
    CHECK_EQ(HYPERVISOR_set_debugreg(7, DR7_GD | DR7_WATCH8(0, RW_WRITE)), -EPERM);
    CHECK_EQ(HYPERVISOR_get_debugreg(7), DR7_DEFAULT);
}

/*
 * I/O breakpoints need CR4.DE, which a PV guest has clear: with any breakpoint enabled,
 * an I/O type in any of the four fields is -EPERM (that breakpoint's own enable does
 * not matter); with none enabled the value is taken as it is.
 */
TEST(debugreg_io_breakpoint_eperm)
{
    long rc;

    CHECK_EQ(HYPERVISOR_set_debugreg(7, DR7_L(0) | DR7_RW(0, RW_IO)), -EPERM);
    CHECK_EQ(HYPERVISOR_set_debugreg(7, DR7_L(0) | DR7_RW(1, RW_IO)), -EPERM);
    CHECK_EQ(HYPERVISOR_set_debugreg(5, DR7_L(3) | DR7_RW(3, RW_IO)), -EPERM);
    CHECK_EQ(HYPERVISOR_get_debugreg(7), DR7_DEFAULT);
    rc = HYPERVISOR_set_debugreg(7, DR7_RW(0, RW_IO));
    CHECK_EQ(rc, 0);
    rc = HYPERVISOR_get_debugreg(7);
    dr_clear();
    CHECK_EQ(rc, DR7_DEFAULT | DR7_RW(0, RW_IO));
}

/* A write watchpoint: #DB after the store (which is done), B0 in the virtual DR6. */
TEST(debugreg_watch_write)
{
    struct trap_record r;
    bool trapped;
    long rc, dr6;

    watched[0] = 0;
    rc = dr_arm(0, (ulong)&watched[0], DR7_WATCH8(0, RW_WRITE));
    trapped = RUN(dr_store, &watched[0], &r);
    dr6 = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_TRAP(trapped, r, 1);
    CHECK(AT_END(r, dr_store));
    CHECK_EQ(r.error, 0);
    CHECK_EQ(watched[0], 1);
    CHECK_EQ(dr6, DR6_DEFAULT | 1);
}

/* Read/write type on breakpoint 2: a load fires it, B2 only. */
TEST(debugreg_watch_access)
{
    struct trap_record r;
    bool trapped;
    long rc, dr6;

    rc = dr_arm(2, (ulong)&watched[1], DR7_WATCH8(2, RW_ACCESS));
    trapped = RUN(dr_load, &watched[1], &r);
    dr6 = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_TRAP(trapped, r, 1);
    CHECK(AT_END(r, dr_load));
    CHECK_EQ(dr6, DR6_DEFAULT | 4);
}

/*
 * The virtual DR6 accumulates, as on Xen: a second hit (breakpoint 1) adds B1 to the B0
 * still there, although the CPU reported B1 alone; writing DR6 starts afresh.
 */
TEST(debugreg_dr6_accumulates)
{
    struct trap_record r1, r2, r3;
    bool t1, t2, t3;
    long rc, dr6_two, dr6_after_write;

    rc = HYPERVISOR_set_debugreg(0, (ulong)&watched[0]);
    if (!rc)
        rc = dr_arm(1, (ulong)&watched[2], DR7_WATCH8(0, RW_WRITE) | DR7_WATCH8(1, RW_WRITE));
    t1 = RUN(dr_store, &watched[0], &r1);
    t2 = RUN(dr_store, &watched[2], &r2);
    dr6_two = HYPERVISOR_get_debugreg(6);
    HYPERVISOR_set_debugreg(6, DR6_DEFAULT);
    t3 = RUN(dr_store, &watched[2], &r3);
    dr6_after_write = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_TRAP(t1, r1, 1);
    CHECK_TRAP(t2, r2, 1);
    CHECK_TRAP(t3, r3, 1);
    CHECK_EQ(dr6_two, DR6_DEFAULT | 3);
    CHECK_EQ(dr6_after_write, DR6_DEFAULT | 2);
}

/*
 * The breakpoints are the vCPU's: they survive a yield and a 2 ms SCHEDOP_poll (the
 * vCPU leaves its CPU for the idle one and comes back) and still fire.
 */
TEST(debugreg_survive_yield_and_poll)
{
    const ulong dr7 = DR7_WATCH8(3, RW_WRITE);
    struct sched_poll sp = { .nr_ports = 0 };
    struct trap_record r1, r2;
    long rc, rc_yield, rc_poll, dr3, dr7_seen, dr6;
    bool t1, t2;

    rc = dr_arm(3, (ulong)&watched[3], dr7);
    rc_yield = HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    t1 = RUN(dr_store, &watched[3], &r1);
    sp.timeout = system_time() + MILLISECS(2);
    rc_poll = HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
    dr3 = HYPERVISOR_get_debugreg(3);
    dr7_seen = HYPERVISOR_get_debugreg(7);
    t2 = RUN(dr_store, &watched[3], &r2);
    dr6 = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_EQ(rc_yield, 0);
    CHECK_EQ(rc_poll, 0);
    CHECK_EQ(dr3, (ulong)&watched[3]);
    CHECK_EQ(dr7_seen, DR7_DEFAULT | dr7);
    CHECK_TRAP(t1, r1, 1);
    CHECK_TRAP(t2, r2, 1);
    CHECK_EQ(dr6, DR6_DEFAULT | 8);
}

/*
 * The hypervisor writing a hypercall's output onto a watched byte is no guest #DB: Xen
 * notes the hit in its own context and goes on. The call succeeds, the output is all
 * there, and the guest's DR6 shows nothing, then or later.
 */
static struct vcpu_runstate_info runstate __aligned(64);

static void runstate_under_watch(size_t offset)
{
    long rc, rc_op, dr6;

    memset(&runstate, 0xee, sizeof(runstate));
    rc = dr_arm(0, (ulong)&runstate + offset, DR7_L(0) | DR7_RW(0, RW_WRITE));
    rc_op = HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &runstate);
    dr6 = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_EQ(rc_op, 0);
    CHECK_EQ(runstate.state, RUNSTATE_running);
    CHECKF(runstate.time[3] != 0xeeeeeeeeeeeeeeeeUL, "the last field was not written");
    CHECK_EQ(dr6, DR6_DEFAULT);
}

TEST(debugreg_hypervisor_write_first_byte)
{
    runstate_under_watch(0);
}

TEST(debugreg_hypervisor_write_middle_byte)
{
    runstate_under_watch(8);
}

/* The last byte: the trap comes after the copy's last iteration. */
TEST(debugreg_hypervisor_write_last_byte)
{
    runstate_under_watch(sizeof(runstate) - 1);
}

/* An input the hypervisor reads (get_features' submap_idx) under a read/write watch. */
TEST(debugreg_hypervisor_read)
{
    static struct xen_feature_info fi __aligned(8);
    long rc, rc_op, dr6;

    fi.submap_idx = 0;
    fi.submap = 0xdeadbeef;
    rc = dr_arm(1, (ulong)&fi.submap_idx, DR7_L(1) | DR7_RW(1, RW_ACCESS));
    rc_op = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    dr6 = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_EQ(rc_op, 0);
    CHECK_EQ(fi.submap, DOM0_FEATURES);
    CHECK_EQ(dr6, DR6_DEFAULT);
}

/*
 * The bounce frame of an int3 lands on a watched stack slot: the guest gets its #BP
 * with the whole frame, and no #DB. The slots watched (cs, ss) are ones the trap
 * handler never writes itself; it runs on this stack until the catch resumes.
 */
static uint64_t bp_stack[1024] __aligned(16);

static void bounce_onto_watch(unsigned int slot)
{
    const uint64_t top = (uint64_t)&bp_stack[1024], frame = top - 7 * 8;
    struct trap_record r;
    long rc, dr6;
    bool trapped;

    rc = dr_arm(0, frame + slot * 8, DR7_WATCH8(0, RW_WRITE));
    trapped = RUN(dr_int3_on, top, &r);
    dr6 = HYPERVISOR_get_debugreg(6);
    dr_clear();
    CHECK_EQ(rc, 0);
    CHECK_TRAP(trapped, r, 3);
    CHECK(AT_END(r, dr_int3_on));
    CHECK_EQ(r.entry_rsp, frame);
    CHECK_EQ(r.rsp, top);
    CHECK_EQ(r.cs, (FLAT_KERNEL_CS & ~3) | (1UL << 32));
    CHECK_EQ(r.ss, FLAT_KERNEL_SS);
    CHECK_EQ(dr6, DR6_DEFAULT);
}

TEST(debugreg_bounce_frame_watched_cs)
{
    bounce_onto_watch(3);
}

TEST(debugreg_bounce_frame_watched_ss)
{
    bounce_onto_watch(6);
}

TEST(fpu_taskswitch_values)
{
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(2), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(-1), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
}
