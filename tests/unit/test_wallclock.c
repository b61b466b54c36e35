/*
 * Tests of the wall clock (hypervisor/common/wallclock.c): dates to seconds against the
 * C library's timegm, XENPF_settime's arithmetic (modulo 2^64, as Xen), the versioned
 * copies in shared_info; and the CMOS RTC decoding of <asm/rtc.h>.
 */
#define _GNU_SOURCE
#include <time.h>
#include <enso/sched.h>
#include <enso/wallclock.h>
#include <asm/rtc.h>
#include "harness.h"

/* What the hypervisor keeps elsewhere. */
LIST_HEAD(domain_list);
DEFINE_SPINLOCK(domain_list_lock);

static uint64_t libc_seconds(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = s };

    return (uint64_t)timegm(&tm);
}

TEST(date_to_seconds_known)
{
    CHECK_EQ(wallclock_date_to_seconds(1970, 1, 1, 0, 0, 0), 0);
    CHECK_EQ(wallclock_date_to_seconds(1970, 1, 1, 0, 0, 1), 1);
    CHECK_EQ(wallclock_date_to_seconds(1970, 3, 1, 0, 0, 0), 59 * 86400);
    CHECK_EQ(wallclock_date_to_seconds(2000, 2, 29, 12, 0, 0), 951825600);
    CHECK_EQ(wallclock_date_to_seconds(2020, 1, 1, 0, 0, 0), 1577836800);
    CHECK_EQ(wallclock_date_to_seconds(2038, 1, 19, 3, 14, 8), 2147483648LL);
    CHECK_EQ(wallclock_date_to_seconds(2100, 3, 1, 0, 0, 0), 4107542400LL);
}

TEST(date_to_seconds_matches_libc)
{
    /* Every day from 1970 to 2199 (leap years, 2100's non-leap day), varying times. */
    for (int y = 1970; y < 2200; y++) {
        for (int mo = 1; mo <= 12; mo++) {
            static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
            int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            int n = mdays[mo - 1] + (mo == 2 && leap);

            for (int d = 1; d <= n; d++) {
                int h = (y + d) % 24, mi = (mo * 7 + d) % 60, s = (y * 3 + d) % 60;

                CHECK_EQ(wallclock_date_to_seconds(y, mo, d, h, mi, s),
                         libc_seconds(y, mo, d, h, mi, s));
            }
        }
    }
}

static void get(uint64_t *sec, uint32_t *nsec)
{
    wallclock_get(sec, nsec);
}

TEST(set_arithmetic)
{
    uint64_t sec;
    uint32_t nsec;

    wallclock_set(1893456000ULL, 123456789, 5000000000ULL);
    get(&sec, &nsec);
    CHECK_EQ(sec, 1893455995ULL);
    CHECK_EQ(nsec, 123456789);
    /* nsecs of a second or more carry. */
    wallclock_set(100, 1500000000U, 0);
    get(&sec, &nsec);
    CHECK_EQ(sec, 101);
    CHECK_EQ(nsec, 500000000);
    /* Borrow across the second. */
    wallclock_set(100, 0, 1);
    get(&sec, &nsec);
    CHECK_EQ(sec, 99);
    CHECK_EQ(nsec, 999999999);
    /* A system time past the new time wraps modulo 2^64, as on Xen. */
    wallclock_set(0, 0, 1);
    get(&sec, &nsec);
    CHECK_EQ(sec, 18446744073ULL);
    CHECK_EQ(nsec, 709551615);
}

struct fake_domain {
    struct domain d;
    struct shared_info s;
};

TEST(set_all_publishes_versioned)
{
    static struct fake_domain a, b, c;
    uint64_t sec;
    uint32_t nsec;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    a.d.shared_info = &a.s;
    b.d.shared_info = &b.s;
    b.s.wc_version = 7; /* a guest may scribble on it: it still ends even, and moves */
    c.d.shared_info = NULL; /* still being built */
    list_add_tail(&a.d.list, &domain_list);
    list_add_tail(&b.d.list, &domain_list);
    list_add_tail(&c.d.list, &domain_list);

    wallclock_set_all(0x123456789ULL, 5, 0);
    CHECK_EQ(a.s.wc_version, 2);
    CHECK_EQ(a.s.wc_sec, 0x23456789);
    CHECK_EQ(a.s.wc_sec_hi, 1);
    CHECK_EQ(a.s.wc_nsec, 5);
    CHECK_EQ(b.s.wc_version, 10);
    CHECK_EQ(b.s.wc_sec, 0x23456789);
    wallclock_set_all(10, 0, 0);
    CHECK_EQ(a.s.wc_version, 4);
    CHECK_EQ(a.s.wc_sec, 10);
    CHECK_EQ(a.s.wc_sec_hi, 0);
    get(&sec, &nsec);
    CHECK_EQ(sec, 10);

    /* A domain built later gets the value as it stands. */
    c.d.shared_info = &c.s;
    wallclock_publish(&c.d);
    CHECK_EQ(c.s.wc_version, 2);
    CHECK_EQ(c.s.wc_sec, 10);
    list_init(&domain_list);
}

static bool decode(uint8_t sec, uint8_t min, uint8_t hour, uint8_t day, uint8_t mon,
                   uint8_t year, uint8_t b, struct rtc_date *d)
{
    struct rtc_regs r = { sec, min, hour, day, mon, year, b };

    return rtc_decode(&r, d);
}

TEST(rtc_bcd_24h)
{
    struct rtc_date d;

    CHECK(decode(0x59, 0x07, 0x23, 0x31, 0x12, 0x26, RTC_B_24H, &d));
    CHECK_EQ(d.year, 2026);
    CHECK_EQ(d.mon, 12);
    CHECK_EQ(d.day, 31);
    CHECK_EQ(d.hour, 23);
    CHECK_EQ(d.min, 7);
    CHECK_EQ(d.sec, 59);
    /* Two-digit years: 70-99 are 19xx, 00-69 20xx. */
    CHECK(decode(0, 0, 0, 1, 1, 0x70, RTC_B_24H, &d));
    CHECK_EQ(d.year, 1970);
    CHECK(decode(0, 0, 0, 1, 1, 0x69, RTC_B_24H, &d));
    CHECK_EQ(d.year, 2069);
}

TEST(rtc_binary_12h)
{
    struct rtc_date d;

    CHECK(decode(59, 30, 12, 1, 2, 24, RTC_B_BINARY, &d)); /* 12 AM */
    CHECK_EQ(d.hour, 0);
    CHECK(decode(59, 30, 12 | RTC_HOUR_PM, 1, 2, 24, RTC_B_BINARY, &d)); /* 12 PM */
    CHECK_EQ(d.hour, 12);
    CHECK(decode(0, 0, 11 | RTC_HOUR_PM, 1, 2, 24, RTC_B_BINARY, &d));
    CHECK_EQ(d.hour, 23);
    CHECK(decode(0, 0, 0x01 | RTC_HOUR_PM, 0x01, 0x02, 0x24, 0, &d)); /* BCD 1 PM */
    CHECK_EQ(d.hour, 13);
    CHECK_EQ(d.year, 2024);
}

TEST(rtc_rejects_bad_fields)
{
    struct rtc_date d;

    CHECK(!decode(0x60, 0, 0, 1, 1, 0x24, RTC_B_24H, &d));   /* second 60 */
    CHECK(!decode(0x5a, 0, 0, 1, 1, 0x24, RTC_B_24H, &d));   /* not BCD */
    CHECK(!decode(0, 0, 0x24, 1, 1, 0x24, RTC_B_24H, &d));   /* hour 24 */
    CHECK(!decode(0, 0, 0, 0, 1, 0x24, RTC_B_24H, &d));      /* day 0 */
    CHECK(!decode(0, 0, 0, 1, 0x13, 0x24, RTC_B_24H, &d));   /* month 13 */
    CHECK(!decode(0, 0, 0, 1, 0, 0x24, RTC_B_24H, &d));      /* month 0 */
    CHECK(!decode(0, 0, 0, 1, 1, 100, RTC_B_24H | RTC_B_BINARY, &d));
    CHECK(!decode(0, 0, 0, 1, 1, 0x24, 0, &d));              /* 12-hour clock, hour 0 */
    CHECK(!decode(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, &d));
}
