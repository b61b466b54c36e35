/*
 * The MC146818-style CMOS real-time clock: register numbers, and the decoding of a
 * snapshot of its date registers (pure, so the host tests run it). The registers hold
 * BCD unless status register B says binary, and the hour is in 12-hour form (bit 7 =
 * PM) unless B says 24-hour. Two-digit years are 1970-2069, as Xen reads them.
 */
#ifndef ASM_RTC_H
#define ASM_RTC_H

#include <enso/types.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b

#define RTC_A_UIP 0x80       /* an update is in progress: the registers may be mid-change */
#define RTC_B_24H 0x02
#define RTC_B_BINARY 0x04
#define RTC_HOUR_PM 0x80

struct rtc_regs {
    uint8_t sec, min, hour, day, mon, year, status_b;
};

struct rtc_date {
    unsigned int year, mon, day, hour, min, sec;
};

static inline bool rtc_field(uint8_t raw, bool binary, unsigned int lo, unsigned int hi,
                             unsigned int *out)
{
    unsigned int v = raw;

    if (!binary) {
        if ((raw & 0xf) > 9 || (raw >> 4) > 9)
            return false;
        v = (raw >> 4) * 10 + (raw & 0xf);
    }
    *out = v;
    return v >= lo && v <= hi;
}

/* The date and time in r; false if a field is not a valid value. */
static inline bool rtc_decode(const struct rtc_regs *r, struct rtc_date *d)
{
    bool binary = r->status_b & RTC_B_BINARY, h24 = r->status_b & RTC_B_24H;
    uint8_t hour = h24 ? r->hour : (uint8_t)(r->hour & ~RTC_HOUR_PM);

    if (!rtc_field(r->sec, binary, 0, 59, &d->sec) || !rtc_field(r->min, binary, 0, 59, &d->min) ||
        !rtc_field(hour, binary, h24 ? 0 : 1, h24 ? 23 : 12, &d->hour) ||
        !rtc_field(r->day, binary, 1, 31, &d->day) || !rtc_field(r->mon, binary, 1, 12, &d->mon) ||
        !rtc_field(r->year, binary, 0, 99, &d->year))
        return false;
    if (!h24)
        d->hour = d->hour % 12 + ((r->hour & RTC_HOUR_PM) ? 12 : 0);
    d->year += d->year < 70 ? 2000 : 1900;
    return true;
}

#endif
