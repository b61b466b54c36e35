/*
 * Scheduler operations: HYPERVISOR_sched_op(int cmd, void *arg). Numbers and layouts
 * follow Xen 4.17's 64-bit x86 ABI; byte offsets are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_SCHED_H
#define ENSO_PUBLIC_SCHED_H

#include <public/event_channel.h>

#define SCHEDOP_yield 0           /* arg unused: give up the CPU, stay runnable */
#define SCHEDOP_block 1           /* arg unused: sleep until an event is pending; also
                                     clears the vCPU's evtchn_upcall_mask */
#define SCHEDOP_shutdown 2        /* struct sched_shutdown */
#define SCHEDOP_poll 3            /* struct sched_poll */
#define SCHEDOP_remote_shutdown 4 /* struct sched_remote_shutdown */
#define SCHEDOP_shutdown_code 5   /* struct sched_shutdown: record the reason only */
#define SCHEDOP_watchdog 6        /* struct sched_watchdog */
#define SCHEDOP_pin_override 7    /* struct sched_pin_override */

/* Shutdown reasons. */
#define SHUTDOWN_poweroff 0   /* exited normally: clean up and destroy */
#define SHUTDOWN_reboot 1     /* destroy, then start again */
#define SHUTDOWN_suspend 2    /* save state for a later resume */
#define SHUTDOWN_crash 3      /* the guest crashed */
#define SHUTDOWN_watchdog 4   /* a watchdog expired */
#define SHUTDOWN_soft_reset 5 /* reset the domain's state, keep its memory */
#define SHUTDOWN_MAX 5

struct sched_shutdown {
    uint32_t reason; /* 0: SHUTDOWN_* */
};                   /* 4 bytes */

/* Blocks until one of the ports is pending or timeout (absolute system time, ns; 0 =
 * none) passes. */
struct sched_poll {
    ENSO_GUEST_HANDLE(evtchn_port_t) ports; /* 0 */
    uint32_t nr_ports;                      /* 8 */
    uint64_t timeout;                       /* 16 */
};                                          /* 24 bytes */

struct sched_remote_shutdown {
    domid_t domain_id; /* 0 */
    uint32_t reason;   /* 4: SHUTDOWN_* */
};                     /* 8 bytes */

/* id 0 creates a watchdog (its id is the return value); timeout 0 destroys one. */
struct sched_watchdog {
    uint32_t id;      /* 0 */
    uint32_t timeout; /* 4: seconds */
};                    /* 8 bytes */

struct sched_pin_override {
    int32_t pcpu; /* 0: physical CPU, or -1 to undo */
};                /* 4 bytes */

#endif
