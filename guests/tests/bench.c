/*
 * Micro-benchmarks of the hypercall path, for `make bench` (which runs this kernel on
 * enso and on real Xen under QEMU with -icount, where the TSC counts emulated work and
 * figures repeat from run to run). Each test checks that the calls did their job and
 * prints "BENCH <name> <TSC ticks per call>"; it asserts nothing about time.
 */
#include <guest/test.h>

#define ROUNDS 20000

static inline uint64_t rdtsc_now(void)
{
    uint32_t lo, hi;

    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t ticks)
{
    printf("BENCH %s %lu\n", name, (unsigned long)(ticks / ROUNDS));
}

/* xen_version(XENVER_version): the cheapest hypercall there is. */
TEST(null_hypercall_page)
{
    long bad = 0;
    uint64_t t0, t1;

    for (int i = 0; i < 100; i++)
        hypercall_via_page(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
    t0 = rdtsc_now();
    for (int i = 0; i < ROUNDS; i++)
        bad += hypercall_via_page(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0) !=
               ((4 << 16) | 17);
    t1 = rdtsc_now();
    CHECK_EQ(bad, 0);
    report("null_hypercall_page", t1 - t0);
}

TEST(null_hypercall_syscall)
{
    long bad = 0;
    uint64_t t0, t1;

    t0 = rdtsc_now();
    for (int i = 0; i < ROUNDS; i++)
        bad += hypercall_via_syscall(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0) !=
               ((4 << 16) | 17);
    t1 = rdtsc_now();
    CHECK_EQ(bad, 0);
    report("null_hypercall_syscall", t1 - t0);
}

static void do_int3(void *arg)
{
    __asm__ __volatile__("int3");
}

/* An exception bounced to the guest's handler: int3, caught by the trap library. */
TEST(int3_bounce)
{
    struct trap_record r;
    uint64_t t0, t1;
    unsigned int caught = 0;

    t0 = rdtsc_now();
    for (int i = 0; i < ROUNDS / 10; i++)
        caught += catch_trap(do_int3, NULL, &r) && r.vector == 3;
    t1 = rdtsc_now();
    CHECK_EQ(caught, ROUNDS / 10);
    printf("BENCH int3_bounce %lu\n", (unsigned long)((t1 - t0) / (ROUNDS / 10)));
}
