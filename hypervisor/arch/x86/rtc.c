/*
 * The CMOS real-time clock, read at boot to set the wall clock. The RTC counts whole
 * seconds, so a single read may lag by up to a second. Xen waits at boot for the next
 * second to begin; enso takes the second as it stands at once and then, without holding
 * up boot, watches for the next one from a timer (every millisecond, for at most a
 * little over a second) and sets the wall clock again at that edge. Guests that boot a
 * second or more later (Linux decompressing itself takes longer) see the precise value.
 */
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/time.h>
#include <enso/timer.h>
#include <enso/smp.h>
#include <enso/wallclock.h>
#include <asm/processor.h>
#include <asm/rtc.h>
#include <asm/time.h>

#define RTC_TRIES 5

static uint8_t cmos_read(uint8_t reg)
{
    outb(reg, RTC_PORT_INDEX);
    return inb(RTC_PORT_DATA);
}

/* The date registers, read while no update is in progress; false if one never ends. */
static bool rtc_snapshot(struct rtc_regs *r)
{
    s_time_t give_up = NOW() + MILLISECS(10); /* an update takes under 2 ms */

    while (cmos_read(RTC_STATUS_A) & RTC_A_UIP)
        if (NOW() > give_up)
            return false;
    r->sec = cmos_read(RTC_SECONDS);
    r->min = cmos_read(RTC_MINUTES);
    r->hour = cmos_read(RTC_HOURS);
    r->day = cmos_read(RTC_DAY);
    r->mon = cmos_read(RTC_MONTH);
    r->year = cmos_read(RTC_YEAR);
    r->status_b = cmos_read(RTC_STATUS_B);
    return true;
}

/* Two equal snapshots in a row: no update slipped in between the registers. */
static bool rtc_read(struct rtc_date *d)
{
    struct rtc_regs a, b;

    if (!rtc_snapshot(&a))
        return false;
    for (int i = 0; i < RTC_TRIES; i++) {
        if (!rtc_snapshot(&b))
            return false;
        if (!memcmp(&a, &b, sizeof(a)))
            return rtc_decode(&a, d);
        a = b;
    }
    return false;
}

void rtc_init_wallclock(void)
{
    struct rtc_date d;

    if (!rtc_read(&d)) {
        printk(LOG_WARNING "time: no usable CMOS RTC; the wall clock starts at 1970\n");
        return;
    }
    wallclock_set(wallclock_date_to_seconds(d.year, d.mon, d.day, d.hour, d.min, d.sec), 0,
                  (uint64_t)NOW());
    printk("time: wall clock %04u-%02u-%02u %02u:%02u:%02u UTC (CMOS RTC)\n", d.year, d.mon,
           d.day, d.hour, d.min, d.sec);
}

#define EDGE_POLL MICROSECS(1000)
#define EDGE_GIVE_UP MILLISECS(1100)
/* A poll later than this cannot date an edge well enough. Polls under emulation on a
 * busy host are often a few ms late, which still dates the edge to a few ms; what is
 * refused is a timer held back for long (a CPU building a domain: seconds). */
#define EDGE_LATE MILLISECS(20)
#define EDGE_TRIES 3

static struct timer edge_timer;
static s_time_t edge_deadline, edge_last_poll;
static uint8_t edge_first_sec;
static unsigned int edge_tries;

/* Watch the RTC's seconds from now on for the next change. */
static void watch_from(const struct rtc_regs *r, s_time_t now)
{
    edge_first_sec = r->sec;
    edge_last_poll = now;
    edge_deadline = now + EDGE_GIVE_UP;
    set_timer(&edge_timer, now + EDGE_POLL);
}

static void watch_for_edge(void *data)
{
    struct rtc_date d;
    struct rtc_regs r;
    s_time_t now;

    (void)data;
    if (!rtc_snapshot(&r))
        return;
    now = NOW();
    if (r.sec == edge_first_sec) {
        edge_last_poll = now;
        if (now < edge_deadline)
            set_timer(&edge_timer, now + EDGE_POLL);
        return;
    }
    /* The second changed, but the poll came late (a busy CPU held the timer back): the
     * edge could be anywhere in that gap. Watch for the next one instead. */
    if (now - edge_last_poll > EDGE_LATE) {
        if (++edge_tries < EDGE_TRIES)
            watch_from(&r, now);
        return;
    }
    /* The second began within the last poll interval: now is its start, give or take. */
    if (rtc_read(&d))
        wallclock_set_all(wallclock_date_to_seconds(d.year, d.mon, d.day, d.hour, d.min,
                                                    d.sec), 0, (uint64_t)now);
}

void rtc_start_edge_watch(void)
{
    struct rtc_regs r;

    if (!rtc_snapshot(&r))
        return;
    init_timer(&edge_timer, watch_for_edge, NULL, smp_processor_id());
    watch_from(&r, NOW());
}
