/* System time: nanoseconds since boot, signed so that differences are natural. */
#ifndef ENSO_TIME_H
#define ENSO_TIME_H

#include <enso/types.h>

typedef int64_t s_time_t;

#define NSEC_PER_SEC 1000000000LL
#define SECONDS(s) ((s_time_t)(s) * NSEC_PER_SEC)
#define MILLISECS(ms) ((s_time_t)(ms) * 1000000LL)
#define MICROSECS(us) ((s_time_t)(us) * 1000LL)

/* System time in ns since boot, from the TSC; consistent across CPUs. */
s_time_t NOW(void);
/* Busy-wait (TSC based). */
void udelay(unsigned long us);
void mdelay(unsigned long ms);
extern uint64_t tsc_khz;
/* Bring up time: calibrate the TSC, start the per-CPU timer interrupt. */
void time_init(void);
void time_init_secondary(void);
/* Program this CPU's one-shot timer interrupt for system time `deadline` (0 = stop). */
void arch_timer_program(s_time_t deadline);
const char *timer_mode_name(void);

#endif
