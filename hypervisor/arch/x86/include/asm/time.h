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
/* Write the current TSC-to-system-time parameters into a guest's time record. */
void time_update_vcpu_info(struct vcpu_time_info *t);

#endif
