/*
 * set_segment_base: FS, the kernel and user GS bases and the user GS selector, checked
 * through %fs:/%gs: memory reads and the (emulated) base MSRs.
 */
#include <guest/test.h>

#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_SHADOW_GS_BASE 0xc0000102

static uint64_t fs_area[2] = { 0xf5f5f5f5f5f5f5f5UL, 0xf5f5f5f5000000f5UL };
static uint64_t gs_area[2] = { 0x6565656565656565UL, 0x6565656500000065UL };

static uint64_t fs_read(unsigned long off)
{
    uint64_t v;

    __asm__ __volatile__("mov %%fs:(%1), %0" : "=r"(v) : "r"(off) : "memory");
    return v;
}

static uint64_t gs_read(unsigned long off)
{
    uint64_t v;

    __asm__ __volatile__("mov %%gs:(%1), %0" : "=r"(v) : "r"(off) : "memory");
    return v;
}

static uint16_t gs_selector(void)
{
    uint16_t sel;

    __asm__ __volatile__("mov %%gs, %0" : "=r"(sel));
    return sel;
}

/* {index, lo, hi} for an rdmsr that Xen emulates. */
static void do_rdmsr(void *arg)
{
    uint32_t *m = arg, lo, hi;

    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m[0]));
    m[1] = lo;
    m[2] = hi;
}

static uint64_t msr(uint32_t index)
{
    uint32_t m[3] = { index, 0, 0 };
    struct trap_record r;

    if (catch_trap(do_rdmsr, m, &r))
        return 0xbad0bad0bad0bad0UL;
    return ((uint64_t)m[2] << 32) | m[1];
}

TEST(fs_base)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, (ulong)fs_area), 0);
    CHECK_EQ(fs_read(0), fs_area[0]);
    CHECK_EQ(fs_read(8), fs_area[1]);
    CHECK_EQ(msr(MSR_FS_BASE), (uint64_t)fs_area);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
    CHECK_EQ(msr(MSR_FS_BASE), 0);
}

TEST(fs_base_in_hypervisor_range)
{
    /* Canonical is all that is asked: the M2P's own address is a valid base. */
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, MACH2PHYS_VIRT_START), 0);
    CHECK_EQ(fs_read(pfn_to_mfn(0) * 8), 0);
    CHECK_EQ(fs_read(pfn_to_mfn(1) * 8), 1);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
}

TEST(gs_kernel_base)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (ulong)gs_area), 0);
    CHECK_EQ(gs_read(0), gs_area[0]);
    CHECK_EQ(gs_read(8), gs_area[1]);
    CHECK_EQ(msr(MSR_GS_BASE), (uint64_t)gs_area);
}

TEST(gs_user_base)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (ulong)gs_area), 0);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (ulong)fs_area), 0);
    /* The user base is the inactive one: %gs still reads the kernel's. */
    CHECK_EQ(gs_read(0), gs_area[0]);
    CHECK_EQ(msr(MSR_SHADOW_GS_BASE), (uint64_t)fs_area);
    CHECK_EQ(msr(MSR_GS_BASE), (uint64_t)gs_area);
}

TEST(gs_user_sel)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (ulong)gs_area), 0);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (ulong)fs_area), 0);
    /* The RPL is forced to 3; the user base becomes the descriptor's (flat: 0). */
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, FLAT_USER_DS32 & ~3), 0);
    CHECK_EQ(gs_selector(), FLAT_USER_DS32);
    CHECK_EQ(msr(MSR_SHADOW_GS_BASE), 0);
    /* The kernel base is untouched. */
    CHECK_EQ(gs_read(0), gs_area[0]);
    CHECK_EQ(msr(MSR_GS_BASE), (uint64_t)gs_area);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0), 0);
    CHECK_EQ(gs_selector(), 0);
    CHECK_EQ(gs_read(0), gs_area[0]);
}

/* Only the low 16 bits are the selector. */
TEST(gs_user_sel_high_bits_ignored)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL,
                                         0xdead0000UL | FLAT_USER_DS32), 0);
    CHECK_EQ(gs_selector(), FLAT_USER_DS32);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0), 0);
}

/* A selector that cannot be loaded is not an error: %gs ends up NUL. */
TEST(gs_user_sel_bad_selector)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, FLAT_USER_DS32), 0);
    CHECK_EQ(gs_selector(), FLAT_USER_DS32);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0x1234), 0);
    CHECK_EQ(gs_selector(), 0);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0xfff8), 0);
    CHECK_EQ(gs_selector(), 0);
}

TEST(invalid_which)
{
    static const unsigned int which[] = { 4, 5, 100, 0xffffffff };

    for (size_t i = 0; i < ARRAY_SIZE(which); i++)
        CHECKF(HYPERVISOR_set_segment_base(which[i], 0) == -EINVAL, "which %u: %ld",
               which[i], HYPERVISOR_set_segment_base(which[i], 0));
}

TEST(noncanonical_base)
{
    static const unsigned long bad[] = { 0x0000800000000000UL, 0x8000000000000000UL,
                                         0xffff7fffffffffffUL, 0x00ff000000000000UL };

    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, (ulong)fs_area), 0);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (ulong)gs_area), 0);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (ulong)fs_area), 0);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, bad[i]), -EINVAL);
        CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, bad[i]), -EINVAL);
        CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, bad[i]), -EINVAL);
    }
    /* Nothing changed. */
    CHECK_EQ(fs_read(0), fs_area[0]);
    CHECK_EQ(gs_read(0), gs_area[0]);
    CHECK_EQ(msr(MSR_SHADOW_GS_BASE), (uint64_t)fs_area);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
}

TEST(canonical_edges)
{
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x00007fffffffffffUL), 0);
    CHECK_EQ(msr(MSR_FS_BASE), 0x00007fffffffffffUL);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0xffff800000000000UL), 0);
    CHECK_EQ(msr(MSR_FS_BASE), 0xffff800000000000UL);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
}

/* The same through the raw syscall path. */
TEST(syscall_path)
{
    hc_mode = HC_SYSCALL;
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, (ulong)fs_area), 0);
    CHECK_EQ(fs_read(0), fs_area[0]);
    CHECK_EQ(HYPERVISOR_set_segment_base(7, 0), -EINVAL);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
}

/* wrmsr to the base MSRs is emulated with the same effect. */
static void do_wrmsr(void *arg)
{
    uint32_t *m = arg;

    __asm__ __volatile__("wrmsr" : : "c"(m[0]), "a"(m[1]), "d"(m[2]) : "memory");
}

TEST(wrmsr_fs_base)
{
    uint32_t m[3] = { MSR_FS_BASE, (uint32_t)(ulong)fs_area, (uint32_t)((ulong)fs_area >> 32) };
    struct trap_record r;

    CHECK_NO_TRAP(catch_trap(do_wrmsr, m, &r), r);
    CHECK_EQ(fs_read(0), fs_area[0]);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
}
