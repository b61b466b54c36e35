#ifndef ASM_TIME_H
#define ASM_TIME_H

#include <enso/time.h>

s_time_t tsc_to_ns(uint64_t delta);
uint64_t ns_to_tsc(s_time_t ns);
/* A fresh TSC frequency measurement against "pit" or "hpet" over ms milliseconds. */
uint64_t measure_tsc_hz(const char *source, unsigned int ms);
bool hpet_available(void);
uint64_t hpet_read_ns(void);

struct vcpu_time_info;
/*
 * Bring a guest's time record up to date (version protocol kept), unless it already is
 * (as Xen: the version then stays). Called when a vCPU is switched in; enso also calls it
 * for each CPU's running vCPU every second, so a vCPU that is never descheduled keeps a
 * fresh record.
 */
void time_update_vcpu_info(struct vcpu_time_info *t);
/* The same, written even if nothing changed: for a record that has just moved (a newly
 * registered vcpu_info), which the guest must see rewritten. */
void time_rewrite_vcpu_info(struct vcpu_time_info *t);
/* Read the CMOS RTC and set the wall clock from it (boot, after TSC calibration). */
void rtc_init_wallclock(void);
/* Refine the wall clock at the RTC next second edge, from a timer (timers must run). */
void rtc_start_edge_watch(void);

#endif
