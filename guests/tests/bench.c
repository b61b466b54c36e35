/*
 * Micro-benchmarks of the hypercall path, for `make bench` (which runs this kernel on
 * enso and on real Xen under QEMU with -icount, where the TSC counts emulated work and
 * figures repeat from run to run). Each test checks that the calls did their job and
 * prints "BENCH <name> <TSC ticks per call>"; it asserts nothing about time.
 * The page-table figures use spare frames (guests/lib/frames.c) for private tables; the
 * timer figures bind VIRQ_TIMER and stop the default periodic timer.
 *
 * The event round trips come last. Between vCPUs they need a second vCPU (skipped
 * without one), brought up only for them. Between domains they need a peer running
 * this kernel: rt_domain=ping rt_peer=N in domain 0, rt_domain=pong rt_peer=0 in an
 * unprivileged domU (both boot modules of enso). bench= picks one group of figures per
 * boot (see group_off()).
 */
#include <guest/events.h>
#include <guest/test.h>
#include <guest/frames.h>
#include <guest/smp.h>

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

/*
 * bench=single|vcpus|domains on the command line runs one group of figures (bench/run.py
 * boots a machine for each); without it every group runs whose needs are met.
 */
static bool group_off(const char *group)
{
    char want[16];

    return cmdline_get("bench", want, sizeof(want)) && strcmp(want, group);
}

#define BENCH_GROUP(group)                                                             \
    do {                                                                               \
        if (group_off(group))                                                          \
            SKIP("not in this run's group of figures (bench=)");                       \
    } while (0)

/* xen_version(XENVER_version): the cheapest hypercall there is. */
TEST(null_hypercall_page)
{
    long bad = 0;
    uint64_t t0, t1;

    BENCH_GROUP("single");
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

    BENCH_GROUP("single");
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

    BENCH_GROUP("single");
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
    BENCH_GROUP("single");
    mmu_batch(1, "mmu_update_batch_1");
}

TEST(mmu_update_batch_16)
{
    BENCH_GROUP("single");
    mmu_batch(16, "mmu_update_batch_16");
}

TEST(mmu_update_batch_256)
{
    BENCH_GROUP("single");
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
    uint64_t l4, l3, l2, l1, e[64], t0, t1;
    struct mmuext_op pin, unpin;
    unsigned int fails = 0;

    BENCH_GROUP("single");
    l4 = frame_alloc();
    l3 = frame_alloc();
    l2 = frame_alloc();
    l1 = frame_alloc();
    CHECK(l4 && l3 && l2 && l1);
    pin = pin_op(MMUEXT_PIN_L4_TABLE, l4);
    unpin = pin_op(MMUEXT_UNPIN_TABLE, l4);
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

    BENCH_GROUP("single");
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

    BENCH_GROUP("single");
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

    BENCH_GROUP("single");
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

/* ---- event round trips ---- */

/*
 * One round: the pinging side sends, the answering side takes the event and sends
 * back, the pinging side takes the answer. Each side waits in one of two ways, the
 * same on both sides and on both hypervisors:
 * - RT_BLOCK: SCHEDOP_block, woken by the event's upcall (the callback counts it);
 *   what a PV kernel's idle loop and its event handlers do;
 * - RT_POLL: SCHEDOP_poll on the port with events masked, no upcall, the pending bit
 *   cleared by the waiter; what a PV spinlock's slow path does.
 * The answering side first sends one "ready" event (taken by poll on the other side),
 * so that no ping reaches it before it counts; after the last round it waits for one
 * more ("done"), so that what it does next does not run inside the last timed round
 * (under -icount every CPU's work advances the clock).
 */
enum rt_wait { RT_BLOCK, RT_POLL };

#define RT_WARMUP 20

/*
 * Timed rounds: rt_rounds= (bench/run.py: 200; under -icount 100 or 1000 give the same
 * figure within a few ticks), else a few: without -icount (tests/guests/run.py) a
 * wake-up of another QEMU CPU can take milliseconds of host time.
 */
static uint32_t rt_rounds(void)
{
    return (uint32_t)MAX(1ULL, MIN(cmdline_get_num("rt_rounds", 20), 100000ULL));
}

/* This side's (vCPU 0's) port and the events its callback counted on it. */
static evtchn_port_t rt_port;
static volatile uint32_t rt_got;

static void rt_hook(evtchn_port_t port)
{
    if (port == rt_port)
        rt_got++;
}

/*
 * The library's callback counting rt_port, events masked, the periodic timer off. The
 * port's pending bit stays: it may be the other side's ready event already.
 */
static bool rt_setup(evtchn_port_t port)
{
    if (events_install() || HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL))
        return false;
    events_mask();
    rt_port = port;
    rt_got = 0;
    upcall_clear();
    event_hook = rt_hook;
    return true;
}

/*
 * Wait for an event on port: with RT_BLOCK until *got reaches want (mask() once
 * woken: the upcall's return left events unmasked), with RT_POLL until the port is
 * pending, then clear it (false once the deadline has passed).
 */
static bool rt_wait_on(enum rt_wait how, evtchn_port_t port, volatile uint32_t *got,
                       uint32_t want, uint64_t deadline, void (*mask)(void),
                       uint64_t (*now)(void))
{
    if (how == RT_BLOCK) {
        while (*got < want) {
            if (HYPERVISOR_sched_op(SCHEDOP_block, NULL))
                return false;
            mask();
        }
        return true;
    }
    while (!port_pending(port)) {
        if (poll_ports(&port, 1, deadline) || (!port_pending(port) && now() >= deadline))
            return false;
    }
    port_clear_pending(port);
    return true;
}

/* vCPU 0 (of either domain) waits for its next event on rt_port. */
static bool rt_wait0(enum rt_wait how, uint32_t want, uint64_t deadline)
{
    return rt_wait_on(how, rt_port, &rt_got, want, deadline, events_mask, system_time);
}

/* The first event from the answering side: always taken by poll, within 60 s. */
static bool rt_ready(void)
{
    bool ok = rt_wait0(RT_POLL, 0, system_time() + SECONDS(60));

    upcall_clear();
    return ok;
}

/*
 * The pinging side: warm-up rounds, then rt_rounds() timed ones, sending on out and
 * waiting on rt_port, then done. TSC ticks per timed round, 0 if a round failed.
 */
static uint64_t rt_ping(enum rt_wait how, evtchn_port_t out)
{
    uint64_t deadline = system_time() + SECONDS(60), t0 = 0, t1;
    uint32_t rounds = rt_rounds();

    for (uint32_t n = 0; n < RT_WARMUP + rounds; n++) {
        if (n == RT_WARMUP)
            t0 = rdtsc_now();
        if (evtchn_send(out) || !rt_wait0(how, n + 1, deadline))
            return 0;
    }
    t1 = rdtsc_now();
    if (evtchn_send(out))
        return 0;
    return (t1 - t0) / rounds;
}

/* The answering side's work, on vCPU 1 or in the other domain. */
struct rt_job {
    enum rt_wait how;
    evtchn_port_t in, out;
    uint32_t rounds;
    unsigned int answered;
    long bad;
};

/* vCPU 1: ready, then answer every ping on in with one on out, then wait for done. */
static void rt_answer_vcpu(struct smp_vcpu *self, void *arg)
{
    struct rt_job *j = arg;
    uint32_t base = self->seen[j->in], n;
    uint64_t deadline = smp_time() + SECONDS(60);

    j->bad = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, self->id, NULL);
    if (!j->bad)
        j->bad = evtchn_send(j->out);
    for (n = 1; !j->bad && n <= RT_WARMUP + j->rounds; n++) {
        if (!rt_wait_on(j->how, j->in, &self->seen[j->in], base + n, deadline, smp_mask,
                        smp_time))
            j->bad = -ETIMEDOUT;
        else
            j->bad = evtchn_send(j->out);
        j->answered += !j->bad;
    }
    if (!j->bad && !rt_wait_on(j->how, j->in, &self->seen[j->in], base + n, deadline,
                               smp_mask, smp_time))
        j->bad = -ETIMEDOUT;
}

/* vCPU 1 up and waiting for work: started on first use. */
static bool vcpu1_ready(void)
{
    static bool started;

    if (!started) {
        smp_init();
        started = smp_start(1) == 0;
    }
    return started;
}

/*
 * Between two vCPUs of this domain: vCPU 0 pings on an IPI port bound to vCPU 1,
 * which answers on an IPI port bound to vCPU 0.
 */
static void vcpu_roundtrip(enum rt_wait how, const char *name)
{
    static struct rt_job j;
    evtchn_port_t to1, to0;
    uint64_t ticks;

    BENCH_GROUP("vcpus");
    if (HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) < 0)
        SKIP("no vCPU 1 (dom0_max_vcpus=2 wanted)");
    CHECK(vcpu1_ready());
    CHECK_EQ(smp_bind_ipi(1, &to1), 0);
    CHECK_EQ(evtchn_bind_ipi(0, &to0), 0);
    CHECK(to1 < SMP_PORTS);
    CHECK(rt_setup(to0));
    j = (struct rt_job){ .how = how, .in = to1, .out = to0, .rounds = rt_rounds() };
    CHECK(smp_post(1, rt_answer_vcpu, &j, SECONDS(1)));
    CHECK(rt_ready());
    ticks = rt_ping(how, to1);
    CHECK(smp_wait(1, SECONDS(10)));
    event_hook = NULL;
    CHECK_EQ(j.bad, 0);
    CHECK_EQ(j.answered, RT_WARMUP + j.rounds);
    CHECK(ticks);
    smp_port_owner[to1] = SMP_NO_OWNER;
    CHECK_EQ(evtchn_close(to1), 0);
    CHECK_EQ(evtchn_close(to0), 0);
    printf("BENCH %s %lu\n", name, (unsigned long)ticks);
}

TEST(event_roundtrip_vcpus)
{
    vcpu_roundtrip(RT_BLOCK, "event_roundtrip_vcpus");
}

TEST(event_roundtrip_vcpus_poll)
{
    vcpu_roundtrip(RT_POLL, "event_roundtrip_vcpus_poll");
}

/*
 * Between two domains, over an interdomain channel used both ways: domain 0 (ping)
 * allocates a port for its peer; the peer (pong) binds to it, trying domain 0's ports
 * in turn (the only one it may bind to is the one unbound for it), and answers.
 * Each figure has a channel of its own: on one channel the next figure's ready event
 * could merge with the last answer before ping has taken it. Ping closes its end after
 * each figure, pong keeps its ends until the last figure (closing one earlier would
 * make ping's end of it bindable again while pong looks for the next).
 */
static evtchn_port_t pong_ports[2];
static unsigned int pong_count;

static bool domain_connect(bool ping, domid_t peer, evtchn_port_t *port)
{
    uint64_t end = system_time() + SECONDS(60);
    evtchn_port_t remote;

    if (ping) {
        if (evtchn_alloc_unbound(DOMID_SELF, peer, port))
            return false;
        printf("rt_domain: port %u waits for domain %u\n", *port, peer);
        return true;
    }
    for (;;) {
        for (remote = 1; remote < 64; remote++)
            if (!evtchn_bind_interdomain(peer, remote, port))
                break;
        if (remote < 64)
            break;
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    printf("rt_domain: port %u bound to domain %u port %u\n", *port, peer, remote);
    port_clear_pending(*port); /* the bind left it pending */
    if (pong_count < 2)
        pong_ports[pong_count++] = *port;
    return true;
}

/* Ping's part: the ready event, the rounds, its end closed. */
static void domain_ping(evtchn_port_t port, domid_t peer, enum rt_wait how, const char *name)
{
    uint64_t ticks;

    CHECKF(rt_ready(), "no ready event from domain %u", peer);
    ticks = rt_ping(how, port);
    event_hook = NULL;
    CHECK(ticks);
    CHECK_EQ(evtchn_close(port), 0);
    printf("BENCH %s %lu\n", name, (unsigned long)ticks);
}

/*
 * Pong's part: ready, an answer to every ping, done taken; after the last figure, its
 * ends closed.
 */
static void domain_pong(evtchn_port_t port, enum rt_wait how, bool last)
{
    uint64_t deadline = system_time() + SECONDS(120);
    uint32_t rounds = rt_rounds(), n;

    CHECK_EQ(evtchn_send(port), 0);
    for (n = 1; n <= RT_WARMUP + rounds; n++) {
        CHECKF(rt_wait0(how, n, deadline), "round %u: no ping", n);
        CHECK_EQ(evtchn_send(port), 0);
    }
    CHECKF(rt_wait0(how, n, deadline), "no done event");
    event_hook = NULL;
    for (unsigned int i = 0; last && i < pong_count; i++)
        CHECK_EQ(evtchn_close(pong_ports[i]), 0);
}

static void domain_roundtrip(enum rt_wait how, const char *name, bool last)
{
    char role[8];
    domid_t peer = (domid_t)cmdline_get_num("rt_peer", 0);
    evtchn_port_t port;
    bool ping;

    BENCH_GROUP("domains");
    if (!cmdline_get("rt_domain", role, sizeof(role)))
        SKIP("needs a peer domain: rt_domain=ping|pong rt_peer=N (bench/run.py, on enso)");
    CHECKF(!strcmp(role, "ping") || !strcmp(role, "pong"), "rt_domain=%s: ping or pong",
           role);
    ping = !strcmp(role, "ping");
    CHECKF(domain_connect(ping, peer, &port), "no channel to domain %u", peer);
    CHECK(rt_setup(port));
    if (ping)
        domain_ping(port, peer, how, name);
    else
        domain_pong(port, how, last);
}

TEST(event_roundtrip_domains)
{
    domain_roundtrip(RT_BLOCK, "event_roundtrip_domains", false);
}

TEST(event_roundtrip_domains_poll)
{
    domain_roundtrip(RT_POLL, "event_roundtrip_domains_poll", true);
}
