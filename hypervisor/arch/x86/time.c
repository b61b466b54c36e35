/*
 * System time and the per-CPU timer interrupt. The TSC is calibrated against the HPET
 * (or the PIT when there is no HPET, or with `clocksource=pit`); system time is the TSC
 * since boot scaled to nanoseconds, with the very scale guests get (asm/pvclock.h), so
 * that what a guest computes from its time record is exactly enso's NOW(). The one-shot
 * timer uses TSC-deadline mode when the CPU has it, else the APIC timer in one-shot mode
 * calibrated against the TSC. The wall clock is read from the CMOS RTC at boot (rtc.c).
 */
#include <enso/cmdline.h>
#include <enso/irq.h>
#include <enso/keyhandler.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <enso/time.h>
#include <enso/timer.h>
#include <enso/wallclock.h>
#include <asm/acpi.h>
#include <public/xen.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/mm.h>
#include <asm/processor.h>
#include <asm/pvclock.h>
#include <asm/time.h>

#define PIT_HZ 1193182
#define CALIBRATE_MS 50

/* How often a running vCPU's time record is brought forward (Xen's calibration EPOCH),
 * so that guests only ever extrapolate over short spans of TSC. */
#define TIME_REFRESH_PERIOD MILLISECS(1000)

uint64_t tsc_khz;
static uint64_t tsc_hz, boot_tsc;
static struct pvclock_scale tsc_scale; /* fixed once calibrated; mul 0 before */
static uint64_t apic_timer_hz;     /* APIC timer ticks per second (divide by 1) */
static bool use_tsc_deadline;
static const char *calibration_source;
static char opt_clocksource[8];
string_param("clocksource", opt_clocksource);
static volatile uint64_t *hpet;
static uint64_t hpet_period_fs;

/* a * b / c with a 128-bit intermediate; the quotient must fit in 64 bits. */
static uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t q, r;

    __asm__("mulq %3; divq %4" : "=a"(q), "=&d"(r) : "a"(a), "rm"(b), "rm"(c) : "cc");
    return q;
}

s_time_t tsc_to_ns(uint64_t delta)
{
    return (s_time_t)pvclock_scale_delta(delta, &tsc_scale);
}

uint64_t ns_to_tsc(s_time_t ns)
{
    return ns > 0 ? pvclock_ticks_for_ns((uint64_t)ns, &tsc_scale) : 0;
}

/* TSC ticks since boot; 0 on a CPU whose TSC would read before boot's. */
static uint64_t tsc_since_boot(void)
{
    uint64_t tsc = rdtsc_ordered();

    return tsc > boot_tsc ? tsc - boot_tsc : 0;
}

s_time_t NOW(void)
{
    return tsc_scale.mul ? tsc_to_ns(tsc_since_boot()) : 0;
}

/*
 * A guest's time record for now: stamped at the latest grid point (asm/pvclock.h), so
 * that system_time + scale(tsc - tsc_timestamp) is NOW() for any later TSC, however
 * long ago the record was written. Flags 0, as Xen without clocksource=tsc.
 */
static void time_record_now(struct vcpu_time_info *r)
{
    uint64_t ticks = tsc_since_boot();

    ticks &= ~(pvclock_grid_ticks(&tsc_scale) - 1);
    r->tsc_timestamp = boot_tsc + ticks;
    r->system_time = pvclock_scale_delta(ticks, &tsc_scale);
    r->tsc_to_system_mul = tsc_scale.mul;
    r->tsc_shift = tsc_scale.shift;
    r->flags = 0;
}

/* Write r into the guest's record, version odd meanwhile (even if the guest left it
 * odd), so a guest reading concurrently retries. */
static void time_write_record(struct vcpu_time_info *t, const struct vcpu_time_info *r)
{
    uint32_t v = (READ_ONCE(t->version) + 1) | 1;

    WRITE_ONCE(t->version, v);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    WRITE_ONCE(t->tsc_timestamp, r->tsc_timestamp);
    WRITE_ONCE(t->system_time, r->system_time);
    WRITE_ONCE(t->tsc_to_system_mul, r->tsc_to_system_mul);
    WRITE_ONCE(t->tsc_shift, r->tsc_shift);
    WRITE_ONCE(t->flags, r->flags);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    WRITE_ONCE(t->version, v + 1);
}

static DEFINE_PER_CPU(struct timer, refresh_timer);
static DEFINE_PER_CPU(bool, refresh_started);

/* Every TIME_REFRESH_PERIOD: bring the running vCPU's record forward. */
static void refresh_current(void *data)
{
    struct vcpu *v = current;

    (void)data;
    if (!is_idle_vcpu(v) && v->vcpu_info)
        time_update_vcpu_info(&v->vcpu_info->time);
    set_timer(&this_cpu(refresh_timer), NOW() + TIME_REFRESH_PERIOD);
}

void time_update_vcpu_info(struct vcpu_time_info *t)
{
    struct vcpu_time_info r;

    time_record_now(&r);
    if (READ_ONCE(t->tsc_timestamp) != r.tsc_timestamp ||
        READ_ONCE(t->system_time) != r.system_time ||
        READ_ONCE(t->tsc_to_system_mul) != r.tsc_to_system_mul ||
        READ_ONCE(t->tsc_shift) != r.tsc_shift || READ_ONCE(t->flags) != r.flags ||
        (READ_ONCE(t->version) & 1))
        time_write_record(t, &r);
    /* The first record published on a CPU starts that CPU's refreshes. */
    if (!this_cpu(refresh_started)) {
        this_cpu(refresh_started) = true;
        init_timer(&this_cpu(refresh_timer), refresh_current, NULL, smp_processor_id());
        set_timer(&this_cpu(refresh_timer), NOW() + TIME_REFRESH_PERIOD);
    }
}

void time_rewrite_vcpu_info(struct vcpu_time_info *t)
{
    struct vcpu_time_info r;

    time_record_now(&r);
    time_write_record(t, &r);
}

void udelay(unsigned long us)
{
    uint64_t start = rdtsc_ordered(), ticks = tsc_khz ? tsc_khz * us / 1000 : us * 3000;

    while (rdtsc_ordered() - start < ticks)
        cpu_relax();
}

void mdelay(unsigned long ms)
{
    while (ms--)
        udelay(1000);
}

/* TSC ticks during `ms` of PIT channel 2 counting down in mode 0 (gate on, speaker off). */
static uint64_t pit_measure_tsc(unsigned int ms)
{
    uint32_t count = PIT_HZ * ms / 1000;
    uint64_t t0, t1;

    outb((inb(0x61) & ~0x02) | 0x01, 0x61);
    outb(0xb0, 0x43);
    outb(count & 0xff, 0x42);
    outb((count >> 8) & 0xff, 0x42);
    t0 = rdtsc_ordered();
    while (!(inb(0x61) & 0x20))
        cpu_relax();
    t1 = rdtsc_ordered();
    return t1 - t0;
}

static bool hpet_init(void)
{
    if (!acpi_info.hpet_addr)
        return false;
    hpet = ioremap(acpi_info.hpet_addr, 0x400, false);
    if (!hpet)
        return false;
    hpet_period_fs = hpet[0] >> 32;
    if (!hpet_period_fs || hpet_period_fs > 100000000) /* period must be <= 100 ns */
        return false;
    hpet[0x10 / 8] |= 1; /* enable the main counter */
    return true;
}

uint64_t hpet_read_ns(void)
{
    return muldiv64(hpet[0xf0 / 8], hpet_period_fs, 1000000);
}

bool hpet_available(void) { return hpet != NULL; }

/*
 * An HPET reading and the TSC at the same instant. Between two reads the CPU may be
 * interrupted or, under emulation, descheduled for milliseconds: bracket the HPET read
 * with TSC reads and keep the tightest of several tries.
 */
static void hpet_tsc_pair(uint64_t *hpet_ns, uint64_t *tsc)
{
    uint64_t best = ~0ULL;

    for (int i = 0; i < 16; i++) {
        uint64_t a = rdtsc_ordered(), h = hpet_read_ns(), b = rdtsc_ordered();
        if (b - a < best) {
            best = b - a;
            *hpet_ns = h;
            *tsc = a + (b - a) / 2;
        }
    }
}

/* TSC Hz over about ms milliseconds of HPET time, from the elapsed time measured. */
static uint64_t hpet_measure_tsc_hz(unsigned int ms)
{
    uint64_t h0, t0, h1, t1;

    hpet_tsc_pair(&h0, &t0);
    while (hpet_read_ns() - h0 < (uint64_t)ms * 1000000)
        cpu_relax();
    hpet_tsc_pair(&h1, &t1);
    return muldiv64(t1 - t0, NSEC_PER_SEC, h1 - h0);
}

uint64_t measure_tsc_hz(const char *source, unsigned int ms)
{
    if (strcmp(source, "hpet") == 0)
        return hpet_measure_tsc_hz(ms);
    return pit_measure_tsc(ms) * 1000 / ms;
}

static void calibrate_tsc(void)
{
    bool have_hpet = hpet_init();

    if (opt_clocksource[0] && strcmp(opt_clocksource, "pit") && strcmp(opt_clocksource, "hpet"))
        printk(LOG_WARNING "time: unknown clocksource=%s; using the default\n", opt_clocksource);
    calibration_source = have_hpet && strcmp(opt_clocksource, "pit") ? "hpet" : "pit";
    if (!strcmp(opt_clocksource, "hpet") && !have_hpet)
        printk(LOG_WARNING "time: clocksource=hpet but there is no HPET; using the PIT\n");
    tsc_hz = measure_tsc_hz(calibration_source, CALIBRATE_MS);
    if (tsc_hz < 1000000)
        panic("time: TSC calibration against the %s failed (%lu Hz)", calibration_source, tsc_hz);
    tsc_khz = tsc_hz / 1000;
    tsc_scale = pvclock_scale_for_hz(tsc_hz);
}

static void calibrate_apic_timer(void)
{
    uint64_t t0;

    apic_write(APIC_TDCR, 0xb); /* divide by 1 */
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(APIC_TMICT, 0xffffffff);
    t0 = rdtsc_ordered();
    while (rdtsc_ordered() - t0 < tsc_hz / 100)
        cpu_relax();
    apic_timer_hz = (0xffffffffULL - apic_read(APIC_TMCCT)) * 100;
    apic_write(APIC_TMICT, 0);
}

void arch_timer_program(s_time_t deadline)
{
    if (use_tsc_deadline) {
        /* The first TSC value at which NOW() reaches the deadline: never early. */
        uint64_t now = rdtsc_ordered(), ticks = ns_to_tsc(deadline);
        uint64_t tsc = deadline ? boot_tsc + MIN(ticks, ~0ULL - boot_tsc) : 0;
        /* 0 disarms; a deadline already passed fires at once, which is what we want. */
        wrmsr(MSR_TSC_DEADLINE, deadline && tsc <= now ? now + 1 : tsc);
        return;
    }
    if (!deadline) {
        apic_write(APIC_TMICT, 0);
        return;
    }
    s_time_t delta = deadline - NOW();
    uint64_t count = delta <= 0 ? 1 : muldiv64(MIN((uint64_t)delta, NSEC_PER_SEC * 60UL), apic_timer_hz, NSEC_PER_SEC);
    apic_write(APIC_TMICT, (uint32_t)MIN(MAX(count, 1UL), 0xffffffffUL));
}

const char *timer_mode_name(void)
{
    return use_tsc_deadline ? "TSC-deadline" : "APIC one-shot";
}

static void timer_interrupt(struct cpu_user_regs *regs, unsigned int vector)
{
    raise_softirq(TIMER_SOFTIRQ);
}

static void setup_timer_lvt(void)
{
    apic_write(APIC_TDCR, 0xb);
    apic_write(APIC_LVT_TIMER, VECTOR_TIMER | (use_tsc_deadline ? APIC_TIMER_TSC_DEADLINE : 0));
}

void time_init(void)
{
    boot_tsc = rdtsc_ordered();
    calibrate_tsc();
    use_tsc_deadline = cpu_has_tsc_deadline;
    if (!use_tsc_deadline)
        calibrate_apic_timer();
    set_irq_handler(VECTOR_TIMER, timer_interrupt);
    setup_timer_lvt();
    printk("time: TSC %lu.%03lu MHz (calibrated against the %s)%s, timer: %s\n",
           tsc_khz / 1000, tsc_khz % 1000, calibration_source,
           cpu_has_invariant_tsc ? ", invariant" : "", timer_mode_name());
    rtc_init_wallclock();
}

void time_init_secondary(void)
{
    setup_timer_lvt();
}

static void dump_time(char key)
{
    printk("'%c' pressed -> time: NOW %lld ns, TSC %lu kHz, timer %s\n", key, (long long)NOW(),
           tsc_khz, timer_mode_name());
}
register_keyhandler('t', dump_time, "show system time and the timer mode");
