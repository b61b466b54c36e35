/*
 * The wall clock, kept as Xen keeps it: the time of day (seconds and nanoseconds since
 * 1970-01-01 00:00:00 UTC) at which system time was 0. Every domain's shared_info carries
 * a copy (wc_sec_hi:wc_sec, wc_nsec, versioned by wc_version like a vcpu_time_info), so
 * a guest's time of day is that plus its system time. It is set from the CMOS RTC at
 * boot and by the control domain with platform_op XENPF_settime.
 *
 * Locking: one lock guards the value and every shared_info copy being written; it is
 * taken with interrupts off, after domain_list_lock.
 */
#ifndef ENSO_WALLCLOCK_H
#define ENSO_WALLCLOCK_H

#include <enso/types.h>

struct domain;
struct shared_info;

/* Seconds since 1970-01-01 00:00:00 UTC of a Gregorian date and time (year >= 1970,
 * fields in range: month 1-12, day 1-31, hour 0-23 ...). */
uint64_t wallclock_date_to_seconds(unsigned int year, unsigned int month, unsigned int day,
                                   unsigned int hour, unsigned int min, unsigned int sec);

/*
 * Set the wall clock so that at system time `system_time` it reads secs.nsecs; nsecs may
 * exceed a second. As on Xen the arithmetic is modulo 2^64: a system time past the
 * given time gives a wall clock near 2^64 ns.
 */
void wallclock_set(uint64_t secs, uint32_t nsecs, uint64_t system_time);
/* The same, then published in every domain's shared_info (XENPF_settime). */
void wallclock_set_all(uint64_t secs, uint32_t nsecs, uint64_t system_time);
/* The wall clock at system time 0. */
void wallclock_get(uint64_t *sec, uint32_t *nsec);
/* Copy it into d's shared_info (a domain being built; nothing if it has none yet). */
void wallclock_publish(struct domain *d);

#endif
