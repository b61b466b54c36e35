/*
 * vCPU timers and guest time as Xen 4.17 gives them to a 64-bit PV domain: the
 * single-shot timer (VCPUOP_set_singleshot_timer and set_timer_op share it), the
 * periodic timer (VCPUOP_set_periodic_timer; 10 ms from the start), VIRQ_TIMER through
 * block, poll and the two masks, the time record in vcpu_info, and the wall clock in
 * shared_info with platform_op XENPF_settime32/64.
 *
 * Runs as domain 0 with one vCPU. Bounds on how late things happen are loose (QEMU TCG
 * is slow and noisy); "never early" is strict, and checked so that it cannot fail by
 * accident: the pending bit (or the upcall) is seen first and system time read after.
 */
#include <guest/events.h>
#include <guest/test.h>
#include <public/platform.h>

#define STIME_DELTA_MAX (~0ULL >> 2) /* the largest period Xen accepts */
#define BAD_VCPU nr_vcpus()          /* the first vCPU id that does not exist */
#define EPOCH_2020 1577836800ULL     /* 2020-01-01 00:00:00 UTC */
#define EPOCH_2100 4102444800ULL
#define DAY 86400ULL

static evtchn_port_t tport; /* VIRQ_TIMER on vCPU 0, bound by bind_timer_virq */
static volatile unsigned int hook_count;
static volatile uint64_t hook_time; /* system time in the first timer upcall */

static void timer_hook(evtchn_port_t port)
{
    if (port == tport && !hook_count++)
        hook_time = system_time();
}

static long sshot(uint64_t deadline, uint32_t flags)
{
    struct vcpu_set_singleshot_timer s = { .timeout_abs_ns = deadline, .flags = flags };

    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &s);
}

static long sshot_stop(void)
{
    return HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
}

static long periodic(unsigned int vcpu, uint64_t period)
{
    struct vcpu_set_periodic_timer p = { .period_ns = period };

    return HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, vcpu, &p);
}

static long periodic_stop(void)
{
    return HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
}

static long set_timer_op(int64_t timeout)
{
    return hypercall(__HYPERVISOR_set_timer_op, (ulong)timeout, 0, 0, 0, 0);
}

static long platform_op(struct xen_platform_op *op)
{
    return hypercall(__HYPERVISOR_platform_op, HC_PTR(op), 0, 0, 0, 0);
}

static unsigned int nr_vcpus(void)
{
    unsigned int n = 1;

    while (n < 64 && HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
        n++;
    return n;
}

static void relax(void)
{
    __asm__ __volatile__("pause" ::: "memory");
}

/* Events masked, the timer port clean and unmasked, the upcall record empty. */
static void fresh(void)
{
    events_mask();
    port_clear_pending(tport);
    port_set_mask(tport, false);
    upcall_clear();
    events_forget();
    hook_count = 0;
    hook_time = 0;
    event_hook = timer_hook;
}

/* fresh(), with both timers stopped (and anything they already sent cleared). */
static void quiet(void)
{
    sshot_stop();
    periodic_stop();
    fresh();
}

/* Spin until the timer port is pending or system time reaches limit; the time read
 * right after the pending bit was first seen (or limit's reading). */
static uint64_t spin_for_event(uint64_t limit, bool *seen)
{
    for (;;) {
        bool p = port_pending(tport);
        uint64_t t = system_time();

        if (p || t >= limit) {
            *seen = p;
            return t;
        }
        relax();
    }
}

/* Sleep in SCHEDOP_poll on the timer port until it is pending or until limit. */
static bool poll_for_event(uint64_t limit)
{
    while (!port_pending(tport) && system_time() < limit)
        poll_ports(&tport, 1, limit);
    return port_pending(tport);
}

/* Timer events during the next `span` ns of spinning (pending bit cleared each time). */
static unsigned int count_ticks(uint64_t span)
{
    uint64_t end = system_time() + span;
    unsigned int n = 0;

    while (system_time() < end) {
        if (port_pending(tport)) {
            port_clear_pending(tport);
            upcall_clear();
            n++;
        }
        relax();
    }
    return n;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

TEST(time_record)
{
    const volatile struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;
    uint32_t version = t->version;
    uint64_t stamp = t->tsc_timestamp;

    INFO("version %u tsc_timestamp %#lx system_time %lu mul %u shift %d flags %#x", version,
         (unsigned long)stamp, (unsigned long)t->system_time, t->tsc_to_system_mul,
         t->tsc_shift, t->flags);
    CHECK_EQ(version & 1, 0);
    CHECK(version != 0);
    CHECK(t->tsc_to_system_mul != 0);
    CHECK(t->tsc_shift >= -32 && t->tsc_shift <= 32);
    CHECK(stamp != 0);
    CHECK(stamp <= rdtsc());
    CHECK(t->system_time > 0);
    CHECK(system_time() >= t->system_time);
}

/* Many reads, reads across yields, and reads for 2.5 s during which the time record is
 * refreshed under the reader's feet (the version protocol must hold). */
TEST(time_monotonic)
{
    const volatile struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;
    uint64_t prev = system_time(), end, now;
    uint32_t version = t->version;
    unsigned int changes = 0, backwards = 0;

    for (int i = 0; i < 100000; i++) {
        now = system_time();
        backwards += now < prev;
        prev = now;
    }
    CHECK_EQ(backwards, 0);
    for (int i = 0; i < 200; i++) {
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        now = system_time();
        backwards += now < prev;
        prev = now;
    }
    CHECK_EQ(backwards, 0);
    /*
     * No hypercall in here: the record changes only if the hypervisor refreshes it
     * (both do it every second). Up to 10 s, stopping at the first refresh: on a loaded
     * host QEMU may stall long enough for the clock to jump past a shorter deadline
     * before the timer interrupt gets in.
     */
    end = prev + SECONDS(10);
    while (!changes && (now = system_time()) < end) {
        uint32_t v = t->version;

        backwards += now < prev;
        prev = now;
        if (v != version && !(v & 1)) {
            changes++;
            version = v;
        }
    }
    INFO("time record refreshed after %lu ms of spinning",
         (unsigned long)((prev - (end - SECONDS(10))) / 1000000));
    CHECK_EQ(backwards, 0);
    CHECK(changes >= 1);
}

TEST(bind_timer_virq)
{
    evtchn_port_t p;

    CHECK_EQ(events_install(), 0);
    CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tport), 0);
    CHECK(tport != 0);
    CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &p), -EEXIST);
    CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, BAD_VCPU, &p), -ENOENT);
}

/* A PV vCPU starts with a 100 Hz periodic timer. */
TEST(default_periodic)
{
    unsigned int n;

    fresh();
    n = count_ticks(MILLISECS(200));
    INFO("%u ticks in 200 ms", n);
    CHECK(n >= 4);
    CHECK(n <= 21); /* never early: at most one per 10 ms, and one already due */
}

TEST(stop_periodic)
{
    quiet();
    CHECK_EQ(count_ticks(MILLISECS(60)), 0);
    /* The argument is not looked at; again is fine; vCPU 1 does not exist. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, (void *)0xffff800000000000UL), 0);
    CHECK_EQ(periodic_stop(), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, BAD_VCPU, NULL), -ENOENT);
}

TEST(set_periodic_args)
{
    quiet();
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, NULL), -EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, BAD_VCPU, NULL), -ENOENT);
    CHECK_EQ(periodic(BAD_VCPU, MILLISECS(10)), -ENOENT);
    CHECK_EQ(periodic(0, 0), -EINVAL);
    CHECK_EQ(periodic(0, MILLISECS(1) - 1), -EINVAL);
    CHECK_EQ(periodic(0, STIME_DELTA_MAX + 1), -EINVAL);
    CHECK_EQ(periodic(0, 1ULL << 63), -EINVAL);
    CHECK_EQ(periodic(0, ~0ULL), -EINVAL);
    CHECK_EQ(periodic(0, STIME_DELTA_MAX), 0);
    CHECK_EQ(periodic(0, MILLISECS(1)), 0);
    CHECK_EQ(periodic_stop(), 0);
}

/*
 * Setting the period sends a tick at once when a period has passed since the last one,
 * then one per period; setting it again within the period sends nothing at once.
 */
TEST(periodic_first_tick)
{
    uint64_t t0, t;
    bool seen;

    quiet();
    count_ticks(MILLISECS(60));
    t0 = system_time();
    CHECK_EQ(periodic(0, MILLISECS(50)), 0);
    CHECK(port_pending(tport));
    port_clear_pending(tport);
    CHECK_EQ(periodic(0, MILLISECS(50)), 0);
    CHECK(!port_pending(tport));
    t = spin_for_event(t0 + SECONDS(2), &seen);
    CHECK(seen);
    CHECKF(t >= t0 + MILLISECS(50), "second tick %lu us after the first",
           (unsigned long)(t - t0) / 1000);
    INFO("second tick seen %lu us after the call", (unsigned long)(t - t0) / 1000);
    CHECK_EQ(periodic_stop(), 0);
}

TEST(periodic_ticks)
{
    unsigned int n;

    quiet();
    CHECK_EQ(periodic(0, MILLISECS(5)), 0);
    n = count_ticks(MILLISECS(200));
    CHECK_EQ(periodic_stop(), 0);
    INFO("%u ticks of a 5 ms timer in 200 ms", n);
    CHECK(n >= 8);
    CHECK(n <= 41);
}

/* The periodic timer runs only while its vCPU does: it does not end a block. */
TEST(periodic_not_while_blocked)
{
    uint64_t t0;

    quiet();
    CHECK_EQ(periodic(0, MILLISECS(30)), 0);
    port_clear_pending(tport); /* the tick that was due at once */
    upcall_clear();
    t0 = system_time();
    CHECK_EQ(sshot(t0 + MILLISECS(150), 0), 0);
    CHECK_EQ(block_vcpu(), 0);
    events_mask();
    CHECK(hook_count >= 1);
    INFO("woken %lu us after the block began", (unsigned long)(hook_time - t0) / 1000);
    CHECK(hook_time >= t0 + MILLISECS(150));
    CHECK_EQ(periodic_stop(), 0);
}

TEST(singleshot_args)
{
    quiet();
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, NULL), -EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, BAD_VCPU, NULL), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, BAD_VCPU, NULL), -ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0xffffffffU, NULL), -ENOENT);
    /* Stopping a timer that is not running; the argument is not looked at. */
    CHECK_EQ(sshot_stop(), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, (void *)1), 0);
}

/* Another vCPU's single-shot timer cannot be touched; its periodic one can (it need
 * not be up). Needs dom0_max_vcpus=2 or more. */
TEST(other_vcpu)
{
    struct vcpu_set_singleshot_timer s = { .timeout_abs_ns = 1 };

    if (nr_vcpus() < 2)
        SKIP("one vCPU (run with dom0_max_vcpus=2 to reach this)");
    quiet();
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &s), -EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, NULL), -EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 1, NULL), -EINVAL);
    CHECK_EQ(periodic(1, MILLISECS(10)), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 1, NULL), 0);
    CHECK_EQ(periodic(1, 0), -EINVAL);
    CHECK(!port_pending(tport)); /* nothing reached vCPU 0 */
}

/* A single-shot timer ends SCHEDOP_block with an upcall, never before its deadline. */
TEST(singleshot_wakes_block)
{
    static const unsigned int delay_us[] = { 100, 1000, 5000, 20000 };

    for (unsigned int i = 0; i < ARRAY_SIZE(delay_us); i++) {
        uint64_t deadline;

        quiet();
        deadline = system_time() + delay_us[i] * 1000ULL;
        CHECK_EQ(sshot(deadline, 0), 0);
        CHECK_EQ(block_vcpu(), 0);
        events_mask();
        CHECK_EQ(hook_count, 1);
        CHECK_EQ(event_seen[tport], 1);
        CHECKF(hook_time >= deadline, "upcall %lu ns before the deadline",
               (unsigned long)(deadline - hook_time));
        CHECK(hook_time < deadline + SECONDS(1));
        INFO("%u us timer: upcall %lu us late", delay_us[i],
             (unsigned long)(hook_time - deadline) / 1000);
    }
}

TEST(singleshot_not_early)
{
    for (int i = 0; i < 20; i++) {
        uint64_t deadline, t;
        bool seen;

        quiet();
        deadline = system_time() + 200000ULL * (unsigned int)(i + 1);
        CHECK_EQ(sshot(deadline, 0), 0);
        t = spin_for_event(deadline + SECONDS(2), &seen);
        CHECK(seen);
        CHECKF(t >= deadline, "pending %lu ns before the deadline",
               (unsigned long)(deadline - t));
    }
}

/*
 * A deadline already passed: the event is sent during the call. VCPU_SSHOTTMR_future
 * changes nothing (Xen 4.17.3 and later ignore it), nor do unknown flags.
 */
TEST(singleshot_past)
{
    static const uint64_t past[] = { 0, 1, 1000 };
    uint64_t now;

    for (unsigned int i = 0; i < ARRAY_SIZE(past); i++) {
        quiet();
        CHECK_EQ(sshot(past[i], 0), 0);
        CHECK(port_pending(tport));
        CHECK(upcall_pending());
    }
    quiet();
    CHECK_EQ(sshot(system_time() - MILLISECS(1), 0), 0);
    CHECK(port_pending(tport));
    quiet();
    CHECK_EQ(sshot(system_time() - MILLISECS(1), VCPU_SSHOTTMR_future), 0);
    CHECK(port_pending(tport));
    quiet();
    CHECK_EQ(sshot(1, ~0U), 0);
    CHECK(port_pending(tport));
    /* Above 2^63 the deadline is an s_time_t in the past. */
    quiet();
    now = system_time();
    CHECK_EQ(sshot(~0ULL, 0), 0);
    CHECK(poll_for_event(now + MILLISECS(100)));
    /* A deadline in the future with every flag set: a normal timer. */
    quiet();
    now = system_time();
    CHECK_EQ(sshot(now + MILLISECS(10), ~0U), 0);
    CHECK(poll_for_event(now + SECONDS(2)));
    CHECK(system_time() >= now + MILLISECS(10));
    quiet();
}

TEST(singleshot_stop_and_replace)
{
    uint64_t t0, t;
    bool seen;

    quiet();
    t0 = system_time();
    CHECK_EQ(sshot(t0 + MILLISECS(20), 0), 0);
    CHECK_EQ(sshot_stop(), 0);
    CHECK(!poll_for_event(t0 + MILLISECS(60)));
    CHECK_EQ(sshot_stop(), 0);

    /* A new deadline replaces the old one. */
    t0 = system_time();
    CHECK_EQ(sshot(t0 + MILLISECS(20), 0), 0);
    CHECK_EQ(sshot(t0 + MILLISECS(70), 0), 0);
    t = spin_for_event(t0 + SECONDS(2), &seen);
    CHECK(seen);
    CHECK(t >= t0 + MILLISECS(70));
    CHECK_EQ(port_pending(tport), 1);
    port_clear_pending(tport);
    CHECK(!poll_for_event(system_time() + MILLISECS(30)));
}

TEST(set_timer_op)
{
    uint64_t t0, t;
    bool seen;

    quiet();
    t0 = system_time();
    CHECK_EQ(set_timer_op((int64_t)(t0 + MILLISECS(20))), 0);
    t = spin_for_event(t0 + SECONDS(2), &seen);
    CHECK(seen);
    CHECK(t >= t0 + MILLISECS(20));

    /* 0 stops it, and so does VCPUOP_stop_singleshot_timer: one timer. */
    quiet();
    t0 = system_time();
    CHECK_EQ(set_timer_op((int64_t)(t0 + MILLISECS(20))), 0);
    CHECK_EQ(set_timer_op(0), 0);
    CHECK(!poll_for_event(t0 + MILLISECS(60)));
    t0 = system_time();
    CHECK_EQ(set_timer_op((int64_t)(t0 + MILLISECS(20))), 0);
    CHECK_EQ(sshot_stop(), 0);
    CHECK(!poll_for_event(t0 + MILLISECS(60)));

    /* A deadline passed: soon. */
    quiet();
    t0 = system_time();
    CHECK_EQ(set_timer_op((int64_t)(t0 - MILLISECS(1))), 0);
    CHECK(poll_for_event(t0 + MILLISECS(500)));
}

/* Negative, or 2^50 ns or more ahead: Xen takes it as a bogus value and fires in 100 ms. */
TEST(set_timer_op_far)
{
    static const int64_t far[] = { -1, -(int64_t)SECONDS(1), (int64_t)1 << 62 };
    uint64_t t0, t;
    bool seen;

    for (unsigned int i = 0; i < ARRAY_SIZE(far) + 1; i++) {
        quiet();
        t0 = system_time();
        if (i < ARRAY_SIZE(far))
            CHECK_EQ(set_timer_op(far[i]), 0);
        else
            CHECK_EQ(set_timer_op((int64_t)(t0 + (1ULL << 51))), 0);
        t = spin_for_event(t0 + SECONDS(3), &seen);
        CHECK(seen);
        CHECKF(t >= t0 + MILLISECS(100), "fired after %lu us", (unsigned long)(t - t0) / 1000);
        INFO("timeout %d: fired after %lu ms", i, (unsigned long)(t - t0) / 1000000);
    }
    /* Just under 2^50 ns ahead: taken as it is. */
    quiet();
    t0 = system_time();
    CHECK_EQ(set_timer_op((int64_t)(t0 + (1ULL << 49))), 0);
    CHECK(!poll_for_event(t0 + MILLISECS(200)));
    quiet();
}

/* An event sent while masked waits; unmasking delivers it. */
TEST(masked_then_unmask)
{
    uint64_t t0;
    bool seen;

    /* The port masked, events enabled: pending, no upcall; EVTCHNOP_unmask delivers. */
    quiet();
    port_set_mask(tport, true);
    events_unmask();
    CHECK_EQ(sshot(1, 0), 0);
    CHECK(port_pending(tport));
    CHECK(!upcall_pending());
    CHECK_EQ(hook_count, 0);
    CHECK_EQ(evtchn_unmask(tport), 0);
    events_mask();
    CHECK_EQ(hook_count, 1);

    /* The vCPU masked: the timer fires, the upcall waits for the mask to go. */
    quiet();
    t0 = system_time();
    CHECK_EQ(sshot(t0 + MILLISECS(10), 0), 0);
    spin_for_event(t0 + SECONDS(2), &seen);
    CHECK(seen);
    CHECK(upcall_pending());
    CHECK_EQ(hook_count, 0);
    events_unmask();
    HYPERVISOR_xen_version(XENVER_version, NULL);
    events_mask();
    CHECK_EQ(hook_count, 1);
    CHECK(hook_time >= t0 + MILLISECS(10));
}

TEST(poll_timer_port)
{
    uint64_t t0, t;

    /* The timer ends the poll long before its timeout. */
    quiet();
    t0 = system_time();
    CHECK_EQ(sshot(t0 + MILLISECS(20), 0), 0);
    CHECK_EQ(poll_ports(&tport, 1, t0 + SECONDS(3)), 0);
    t = system_time();
    CHECK(port_pending(tport));
    CHECK(t >= t0 + MILLISECS(20));
    CHECK(t < t0 + SECONDS(2));

    /* No timer: the poll's own timeout. */
    quiet();
    t0 = system_time();
    CHECK_EQ(poll_ports(&tport, 1, t0 + MILLISECS(30)), 0);
    t = system_time();
    CHECK(!port_pending(tport));
    CHECK(t >= t0 + MILLISECS(30));
    INFO("30 ms poll took %lu us", (unsigned long)(t - t0) / 1000);
}

TEST(time_across_block)
{
    uint64_t t0, t1;

    quiet();
    t0 = system_time();
    CHECK_EQ(sshot(t0 + MILLISECS(5), 0), 0);
    CHECK_EQ(block_vcpu(), 0);
    t1 = system_time();
    events_mask();
    CHECK_EQ(hook_count, 1);
    CHECK(t0 <= hook_time);
    CHECK(hook_time <= t1);
}

/* ---- the wall clock ---- */

struct wallclock {
    uint32_t version;
    uint64_t sec;
    uint32_t nsec;
};

static struct wallclock read_wallclock(void)
{
    const volatile struct shared_info *s = shared_info;
    struct wallclock w;

    do {
        w.version = s->wc_version;
        barrier();
        w.sec = s->wc_sec | (uint64_t)s->wc_sec_hi << 32;
        w.nsec = s->wc_nsec;
        barrier();
    } while ((w.version & 1) || w.version != s->wc_version);
    return w;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int month_days(int64_t y, unsigned int m)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return days[m - 1] + (m == 2 && leap(y));
}

/* Days since 1970-01-01 of a date from 1970 on (a plain count: run rarely). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
    int64_t n = d - 1;

    for (int64_t i = 1970; i < y; i++)
        n += leap(i) ? 366 : 365;
    for (unsigned int i = 1; i < m; i++)
        n += month_days(y, i);
    return n;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
    *y = 1970;
    while (z >= (leap(*y) ? 366 : 365))
        z -= leap((*y)++) ? 366 : 365;
    *m = 1;
    while (z >= month_days(*y, *m))
        z -= month_days(*y, (*m)++);
    *d = (unsigned int)z + 1;
}

/* The day this kernel was compiled, from __DATE__ ("Mmm dd yyyy"). */
static uint64_t build_day_epoch(void)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *date = __DATE__;
    unsigned int m = 1, d, y;

    while (m <= 12 && memcmp(months + 3 * (m - 1), date, 3))
        m++;
    d = (date[4] == ' ' ? 0 : (unsigned int)(date[4] - '0') * 10) + (unsigned int)(date[5] - '0');
    y = (unsigned int)((date[7] - '0') * 1000 + (date[8] - '0') * 100 + (date[9] - '0') * 10 +
                       (date[10] - '0'));
    return (uint64_t)days_from_civil(y, m, d) * DAY;
}

TEST(wallclock)
{
    struct wallclock a = read_wallclock(), b;
    uint64_t now_sec, build = build_day_epoch();
    int64_t y;
    unsigned int mo, d;

    now_sec = a.sec + (a.nsec + system_time()) / 1000000000ULL;
    civil_from_days((int64_t)(now_sec / DAY), &y, &mo, &d);
    INFO("wc_version %u wc %lu.%09u: now %04ld-%02u-%02u %02lu:%02lu:%02lu UTC (built %lu)",
         a.version, (unsigned long)a.sec, a.nsec, (long)y, mo, d,
         (unsigned long)(now_sec % DAY / 3600), (unsigned long)(now_sec % 3600 / 60),
         (unsigned long)(now_sec % 60), (unsigned long)build);
    CHECK_EQ(a.version & 1, 0);
    CHECK(a.version >= 2);
    CHECK(a.nsec < 1000000000U);
    CHECK(now_sec >= EPOCH_2020);
    CHECK(now_sec + DAY >= build);
    CHECK(now_sec < EPOCH_2100);
    /* It is the wall clock at system time 0: it stands still while time passes. */
    count_ticks(MILLISECS(50));
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    b = read_wallclock();
    CHECK_EQ(b.version, a.version);
    CHECK_EQ(b.sec, a.sec);
    CHECK_EQ(b.nsec, a.nsec);
}

static long settime64(uint64_t secs, uint32_t nsecs, uint32_t mbz, uint64_t system)
{
    struct xen_platform_op op = { .cmd = XENPF_settime64,
                                  .interface_version = XENPF_INTERFACE_VERSION };

    op.u.settime64.secs = secs;
    op.u.settime64.nsecs = nsecs;
    op.u.settime64.mbz = mbz;
    op.u.settime64.system_time = system;
    return platform_op(&op);
}

static long settime32(uint32_t secs, uint32_t nsecs, uint64_t system)
{
    struct xen_platform_op op = { .cmd = XENPF_settime32,
                                  .interface_version = XENPF_INTERFACE_VERSION };

    op.u.settime32.secs = secs;
    op.u.settime32.nsecs = nsecs;
    op.u.settime32.system_time = system;
    return platform_op(&op);
}

static bool privileged(void)
{
    return start_info->flags & SIF_PRIVILEGED;
}

TEST(platform_op_checks)
{
    struct xen_platform_op op = { .cmd = XENPF_settime64 };
    struct wallclock a = read_wallclock(), b;

    CHECK_EQ(platform_op(NULL), -EFAULT);
    CHECK_EQ(platform_op((struct xen_platform_op *)0xffff800000000000UL), -EFAULT);
    /* The interface version first, whatever the command. */
    CHECK_EQ(platform_op(&op), -EACCES);
    op.interface_version = XENPF_INTERFACE_VERSION + 1;
    CHECK_EQ(platform_op(&op), -EACCES);
    op.cmd = 0;
    CHECK_EQ(platform_op(&op), -EACCES);
    op.interface_version = XENPF_INTERFACE_VERSION;
    if (!privileged()) {
        CHECK_EQ(platform_op(&op), -EPERM);
        CHECK_EQ(settime64(EPOCH_2020, 0, 0, 0), -EPERM);
        return;
    }
    CHECK_EQ(platform_op(&op), -ENOSYS);
    op.cmd = 1000;
    CHECK_EQ(platform_op(&op), -ENOSYS);
    op.cmd = ~0U;
    CHECK_EQ(platform_op(&op), -ENOSYS);
    /* settime64's mbz: -EINVAL, the wall clock untouched. */
    CHECK_EQ(settime64(EPOCH_2020, 0, 1, 0), -EINVAL);
    CHECK_EQ(settime64(EPOCH_2020, 0, 0x80000000U, 0), -EINVAL);
    b = read_wallclock();
    CHECK_EQ(b.version, a.version);
    CHECK_EQ(b.sec, a.sec);
    CHECK_EQ(b.nsec, a.nsec);
}

/* settime64 (settime32 for the last case) and the wall clock expected afterwards. */
struct settime_case {
    uint64_t secs;
    uint32_t nsecs;
    uint64_t system;
    uint64_t wc_sec;
    uint32_t wc_nsec;
};

static const struct settime_case settime_cases[] = {
    /* nsecs of a second or more carry into the seconds. */
    { 1893456000ULL, 1500000000U, 0, 1893456001ULL, 500000000U },
    /* A system time past the new time: the difference wraps modulo 2^64. */
    { 0, 0, 1, 18446744073ULL, 709551615U },
    /* Seconds above 32 bits go to wc_sec_hi. */
    { 0x123456789ULL, 5, 0, 0x123456789ULL, 5 },
    { 0xffffffffULL, 7, 0, 0xffffffffULL, 7 },
};

/* One update happened and the wall clock reads sec.nsec; fails the test if not. */
static void expect_wallclock(uint32_t *version, uint64_t sec, uint32_t nsec)
{
    struct wallclock w = read_wallclock();
    uint32_t want = *version + 2;

    *version = w.version;
    CHECKF(w.version == want, "wc_version %u, expected %u", w.version, want);
    CHECKF(w.sec == sec && w.nsec == nsec, "wall clock %lu.%09u, expected %lu.%09u",
           (unsigned long)w.sec, w.nsec, (unsigned long)sec, nsec);
}

/* Every step runs only while nothing has failed; the original is put back at the end. */
TEST(settime)
{
    struct wallclock orig = read_wallclock();
    uint32_t version = orig.version;
    uint64_t now, wc;
    long rc;

    if (!privileged())
        SKIP("needs a privileged domain");
    /* 2030-01-01 00:00:00.123456789 at system time now. */
    now = system_time();
    rc = settime64(1893456000ULL, 123456789, 0, now);
    CHECK_EQ(rc, 0);
    wc = 1893456000ULL * 1000000000ULL + 123456789 - now;
    expect_wallclock(&version, wc / 1000000000ULL, (uint32_t)(wc % 1000000000ULL));
    for (unsigned int i = 0; i < ARRAY_SIZE(settime_cases) && !test_failed(); i++) {
        const struct settime_case *c = &settime_cases[i];

        if (i == ARRAY_SIZE(settime_cases) - 1)
            rc = settime32((uint32_t)c->secs, c->nsecs, c->system);
        else
            rc = settime64(c->secs, c->nsecs, 0, c->system);
        if (rc) {
            test_fail(__FILE__, __LINE__, "case %u: settime returned %ld", i, rc);
            break;
        }
        expect_wallclock(&version, c->wc_sec, c->wc_nsec);
    }
    rc = settime64(orig.sec, orig.nsec, 0, 0);
    if (!test_failed()) {
        CHECK_EQ(rc, 0);
        expect_wallclock(&version, orig.sec, orig.nsec);
    }
}
