/* The wall clock and its copies in the domains' shared_info (see <enso/wallclock.h>). */
#include <enso/lib.h>
#include <enso/sched.h>
#include <enso/spinlock.h>
#include <enso/time.h>
#include <enso/wallclock.h>
#include <public/xen.h>

static DEFINE_SPINLOCK(wc_lock);
static uint64_t wc_sec;
static uint32_t wc_nsec;

/* Days from 0000-03-01 (proleptic Gregorian) to 1970-01-01. */
#define EPOCH_DAY 719468

uint64_t wallclock_date_to_seconds(unsigned int year, unsigned int month, unsigned int day,
                                   unsigned int hour, unsigned int min, unsigned int sec)
{
    /*
     * Years counted from March put the leap day last, so the days before a month do not
     * depend on the year: from March 1 to the first of each month, March first.
     */
    static const uint16_t before[12] = { 0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337 };
    uint64_t y = month >= 3 ? year : year - 1;
    unsigned int m = month >= 3 ? month - 3 : month + 9;
    uint64_t days = 365 * y + y / 4 - y / 100 + y / 400 + before[m % 12] + day - 1 - EPOCH_DAY;

    return ((days * 24 + hour) * 60 + min) * 60 + sec;
}

/* wc_lock held: the versioned copy into one shared_info. */
static void write_copy(struct shared_info *s)
{
    uint32_t v = (READ_ONCE(s->wc_version) + 1) | 1;

    WRITE_ONCE(s->wc_version, v);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    WRITE_ONCE(s->wc_sec, (uint32_t)wc_sec);
    WRITE_ONCE(s->wc_nsec, wc_nsec);
    WRITE_ONCE(s->wc_sec_hi, (uint32_t)(wc_sec >> 32));
    __atomic_thread_fence(__ATOMIC_RELEASE);
    WRITE_ONCE(s->wc_version, v + 1);
}

void wallclock_set(uint64_t secs, uint32_t nsecs, uint64_t system_time)
{
    uint64_t at_zero = secs * (uint64_t)NSEC_PER_SEC + nsecs - system_time;
    unsigned long flags = spin_lock_irqsave(&wc_lock);

    wc_sec = at_zero / NSEC_PER_SEC;
    wc_nsec = (uint32_t)(at_zero % NSEC_PER_SEC);
    spin_unlock_irqrestore(&wc_lock, flags);
}

void wallclock_set_all(uint64_t secs, uint32_t nsecs, uint64_t system_time)
{
    struct domain *d;

    wallclock_set(secs, nsecs, system_time);
    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list)
        wallclock_publish(d);
    spin_unlock(&domain_list_lock);
}

void wallclock_get(uint64_t *sec, uint32_t *nsec)
{
    unsigned long flags = spin_lock_irqsave(&wc_lock);

    *sec = wc_sec;
    *nsec = wc_nsec;
    spin_unlock_irqrestore(&wc_lock, flags);
}

void wallclock_publish(struct domain *d)
{
    unsigned long flags = spin_lock_irqsave(&wc_lock);
    struct shared_info *s = READ_ONCE(d->shared_info);

    if (s)
        write_copy(s);
    spin_unlock_irqrestore(&wc_lock, flags);
}
