/*
 * Micro-benchmarks of the hypercall path, for `make bench` (which runs this kernel on
 * enso and on real Xen under QEMU with -icount, where the TSC counts emulated work and
 * figures repeat from run to run). Each test checks that the calls did their job and
 * prints "BENCH <name> <TSC ticks per call>"; it asserts nothing about time.
 * The page-table figures use spare frames (guests/lib/frames.c) for private tables; the
 * timer figures bind VIRQ_TIMER and stop the default periodic timer.
 */
#include <guest/events.h>
#include <guest/test.h>
#include <guest/frames.h>

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

#define MMU_ROUNDS 2000

static struct mmuext_op pin_op(unsigned int cmd, uint64_t mfn)
{
    struct mmuext_op op = { .cmd = cmd };

    op.arg1.mfn = mfn;
    return op;
}

/* The machine frames of the kernel's first pages: mapped read-only by private tables. */
static uint64_t image_mfn(unsigned int i)
{
    return pfn_to_mfn(i);
}

/*
 * One mmu_update call writing n entries of a pinned L1 that maps nothing else, each
 * switching between two read-only frames so every call changes every entry.
 */
static void mmu_batch(unsigned int n, const char *name)
{
    static struct mmu_update req[256];
    uint64_t l1 = frame_alloc(), t0, t1;
    struct mmuext_op op = pin_op(MMUEXT_PIN_L1_TABLE, l1);
    unsigned int done, fails = 0;

    CHECK(l1);
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    t0 = rdtsc_now();
    for (int r = 0; r < MMU_ROUNDS; r++) {
        for (unsigned int i = 0; i < n; i++) {
            req[i].ptr = (l1 << PAGE_SHIFT) + i * 8;
            req[i].val = (image_mfn((i + r) & 1) << PAGE_SHIFT) | _PAGE_PRESENT;
        }
        done = 0;
        fails += HYPERVISOR_mmu_update(req, n, &done, DOMID_SELF) != 0 || done != n;
    }
    t1 = rdtsc_now();
    CHECK_EQ(fails, 0);
    op = pin_op(MMUEXT_UNPIN_TABLE, l1);
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    frame_free(l1);
    printf("BENCH %s %lu\n", name, (unsigned long)((t1 - t0) / MMU_ROUNDS));
}

TEST(mmu_update_batch_1)
{
    mmu_batch(1, "mmu_update_batch_1");
}

TEST(mmu_update_batch_16)
{
    mmu_batch(16, "mmu_update_batch_16");
}

TEST(mmu_update_batch_256)
{
    mmu_batch(256, "mmu_update_batch_256");
}

/* Write entry i of table t (a spare frame) through a temporary mapping at scratch_page. */
static long fill_table(uint64_t t, const uint64_t *entries, unsigned int n)
{
    uint64_t *p = (uint64_t *)scratch_page;
    long rc = map_mfn((ulong)scratch_page, t, _PAGE_PRESENT | _PAGE_RW);

    if (rc)
        return rc;
    for (unsigned int i = 0; i < n; i++)
        p[i] = entries[i];
    return map_mfn((ulong)scratch_page,
                   pfn_to_mfn(((ulong)scratch_page - GUEST_VIRT_BASE) >> PAGE_SHIFT),
                   _PAGE_PRESENT | _PAGE_RW);
}

/*
 * Pin and unpin a small L4 hierarchy (one table per level, the L1 mapping 64 frames):
 * what a process's first page-table use and its exit cost in a PV kernel.
 */
TEST(pin_unpin_l4)
{
    uint64_t l4 = frame_alloc(), l3 = frame_alloc(), l2 = frame_alloc(), l1 = frame_alloc();
    uint64_t e[64], t0, t1;
    struct mmuext_op pin = pin_op(MMUEXT_PIN_L4_TABLE, l4), unpin = pin_op(MMUEXT_UNPIN_TABLE, l4);
    unsigned int fails = 0;

    CHECK(l4 && l3 && l2 && l1);
    for (unsigned int i = 0; i < 64; i++)
        e[i] = (image_mfn(i) << PAGE_SHIFT) | _PAGE_PRESENT;
    CHECK_EQ(fill_table(l1, e, 64), 0);
    e[0] = (l1 << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
    CHECK_EQ(fill_table(l2, e, 1), 0);
    e[0] = (l2 << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
    CHECK_EQ(fill_table(l3, e, 1), 0);
    e[0] = (l3 << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
    CHECK_EQ(fill_table(l4, e, 1), 0);
    t0 = rdtsc_now();
    for (int r = 0; r < MMU_ROUNDS; r++) {
        fails += HYPERVISOR_mmuext_op(&pin, 1, NULL, DOMID_SELF) != 0;
        fails += HYPERVISOR_mmuext_op(&unpin, 1, NULL, DOMID_SELF) != 0;
    }
    t1 = rdtsc_now();
    CHECK_EQ(fails, 0);
    printf("BENCH pin_unpin_l4 %lu\n", (unsigned long)((t1 - t0) / MMU_ROUNDS));
}

static void touch(void *va)
{
    (void)*(volatile uint64_t *)va;
}

/*
 * Demand paging as a PV kernel does it: touch an unmapped page, take the #PF in the
 * guest, map the page with update_va_mapping, touch again; then unmap it.
 */
TEST(page_fault_loop)
{
    ulong va = (ulong)scratch_page;
    uint64_t mfn = pfn_to_mfn((va - GUEST_VIRT_BASE) >> PAGE_SHIFT), t0, t1;
    struct trap_record r;
    unsigned int faults = 0;

    t0 = rdtsc_now();
    for (int i = 0; i < MMU_ROUNDS; i++) {
        HYPERVISOR_update_va_mapping(va, 0, UVMF_INVLPG);
        faults += catch_trap(touch, (void *)va, &r) && r.vector == 14;
        map_mfn(va, mfn, _PAGE_PRESENT | _PAGE_RW);
        touch((void *)va);
    }
    t1 = rdtsc_now();
    CHECK_EQ(faults, MMU_ROUNDS);
    printf("BENCH page_fault_loop %lu\n", (unsigned long)((t1 - t0) / MMU_ROUNDS));
}

/* ---- timers ---- */

#define TIMER_ROUNDS 500

static evtchn_port_t timer_port;
static volatile uint64_t upcall_tsc;

static void timer_hook(evtchn_port_t port)
{
    if (port == timer_port && !upcall_tsc)
        upcall_tsc = rdtsc_now();
}

static long singleshot(uint64_t deadline)
{
    struct vcpu_set_singleshot_timer s = { .timeout_abs_ns = deadline };

    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &s);
}

/* VIRQ_TIMER bound and counted by timer_hook, the 100 Hz periodic timer off. */
static bool timer_setup(void)
{
    if (!timer_port && (events_install() || evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port)))
        return false;
    if (HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL))
        return false;
    events_mask();
    port_clear_pending(timer_port);
    upcall_clear();
    event_hook = timer_hook;
    return true;
}

/* The TSC value at which vCPU 0's system time reaches t (t at most seconds ahead). */
static uint64_t tsc_at(uint64_t t)
{
    const volatile struct vcpu_time_info *r = &shared_info->vcpu_info[0].time;
    uint64_t stamp, sys, units;
    uint32_t version, mul;
    int8_t shift;

    do {
        version = r->version;
        barrier();
        stamp = r->tsc_timestamp;
        sys = r->system_time;
        mul = r->tsc_to_system_mul;
        shift = r->tsc_shift;
        barrier();
    } while ((version & 1) || version != r->version);
    units = (((t - sys) << 32) + mul - 1) / mul;
    return stamp + (shift < 0 ? units << -shift : units >> shift);
}

/*
 * Timer wake-up latency: a single-shot timer 50 us ahead, SCHEDOP_block, and the TSC
 * ticks from the deadline to the moment the event callback runs.
 */
TEST(timer_wakeup_latency)
{
    uint64_t total = 0;
    unsigned int missed = 0;

    CHECK(timer_setup());
    for (int i = 0; i < TIMER_ROUNDS; i++) {
        uint64_t deadline = system_time() + 50000, at;

        upcall_tsc = 0;
        at = tsc_at(deadline);
        if (singleshot(deadline) || block_vcpu() || !upcall_tsc) {
            missed++;
            events_mask();
            continue;
        }
        events_mask();
        total += upcall_tsc > at ? upcall_tsc - at : 0;
    }
    CHECK_EQ(missed, 0);
    printf("BENCH timer_wakeup_latency %lu\n", (unsigned long)(total / TIMER_ROUNDS));
}

/*
 * Block/wake cost: a single-shot timer with a deadline already passed (the event is
 * sent during the call) and SCHEDOP_block, which returns into the upcall: the whole
 * round trip per iteration.
 */
TEST(block_wake)
{
    uint64_t t0, t1;
    unsigned int missed = 0;

    CHECK(timer_setup());
    t0 = rdtsc_now();
    for (int i = 0; i < TIMER_ROUNDS; i++) {
        upcall_tsc = 0;
        missed += singleshot(1) || block_vcpu() || !upcall_tsc;
        events_mask();
    }
    t1 = rdtsc_now();
    CHECK_EQ(missed, 0);
    printf("BENCH block_wake %lu\n", (unsigned long)((t1 - t0) / TIMER_ROUNDS));
}
