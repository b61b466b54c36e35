/*
 * vCPU operations: HYPERVISOR_vcpu_op(int cmd, unsigned int vcpuid, void *arg).
 * Numbers and layouts follow Xen 4.17's 64-bit x86 ABI; byte offsets are checked by
 * abi_check.c.
 */
#ifndef ENSO_PUBLIC_VCPU_H
#define ENSO_PUBLIC_VCPU_H

#include <public/xen.h>

#define VCPUOP_initialise 0                     /* struct vcpu_guest_context */
#define VCPUOP_up 1                             /* arg unused */
#define VCPUOP_down 2                           /* arg unused */
#define VCPUOP_is_up 3                          /* arg unused; returns 1 if up */
#define VCPUOP_get_runstate_info 4              /* struct vcpu_runstate_info */
#define VCPUOP_register_runstate_memory_area 5 /* struct vcpu_register_runstate_memory_area */
#define VCPUOP_set_periodic_timer 6             /* struct vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer 7            /* arg unused */
#define VCPUOP_set_singleshot_timer 8           /* struct vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer 9          /* arg unused */
#define VCPUOP_register_vcpu_info 10            /* struct vcpu_register_vcpu_info */
#define VCPUOP_send_nmi 11                      /* arg unused */
#define VCPUOP_get_physid 12                    /* struct vcpu_get_physid */
#define VCPUOP_register_vcpu_time_memory_area 13 /* struct vcpu_register_time_memory_area */

/* vcpu_runstate_info.state */
#define RUNSTATE_running 0  /* on a physical CPU */
#define RUNSTATE_runnable 1 /* ready, waiting for a CPU */
#define RUNSTATE_blocked 2  /* waiting for an event */
#define RUNSTATE_offline 3  /* down or paused */

/* Set in state_entry_time while the hypervisor updates a registered copy (only when
 * the guest enabled VMASST_TYPE_runstate_update_flag). */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

struct vcpu_runstate_info {
    int32_t state;             /* 0: RUNSTATE_* */
    uint32_t pad_;             /* 4: implicit padding in Xen's layout */
    uint64_t state_entry_time; /* 8: system time (ns) the state was entered */
    uint64_t time[4];          /* 16: ns spent in each RUNSTATE_* */
};                             /* 48 bytes */

ENSO_DEFINE_GUEST_HANDLE(vcpu_runstate_info, struct vcpu_runstate_info);

/* The hypervisor keeps a copy of the runstate at this guest virtual address. */
struct vcpu_register_runstate_memory_area {
    union {
        ENSO_GUEST_HANDLE(vcpu_runstate_info) h;
        uint64_t p;
    } addr; /* 0 */
};          /* 8 bytes */

struct vcpu_set_periodic_timer {
    uint64_t period_ns; /* 0 */
};                      /* 8 bytes */

#define _VCPU_SSHOTTMR_future 0
/* Asks for -ETIME if the deadline has passed; Xen 4.17.3 and later (and enso) ignore
 * it and send the event at once, as for any deadline passed. */
#define VCPU_SSHOTTMR_future (1U << _VCPU_SSHOTTMR_future)

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns; /* 0: absolute system time */
    uint32_t flags;          /* 8: VCPU_SSHOTTMR_* */
    uint32_t pad_;           /* 12: implicit padding in Xen's layout */
};                           /* 16 bytes */

/* Moves the vCPU's vcpu_info out of the shared info page, to offset in frame mfn. */
struct vcpu_register_vcpu_info {
    uint64_t mfn;    /* 0: guest frame holding the vcpu_info */
    uint32_t offset; /* 8: offset in that frame; the structure must not cross it */
    uint32_t rsvd;   /* 12 */
};                   /* 16 bytes */

struct vcpu_get_physid {
    uint64_t phys_id; /* 0: bits 0-31 APIC id, bits 32-63 ACPI id */
};                    /* 8 bytes */

#define xen_vcpu_physid_to_x86_apicid(id) ((uint32_t)(id))
#define xen_vcpu_physid_to_x86_acpiid(id) ((uint32_t)((id) >> 32))

/* The hypervisor keeps a copy of the vCPU's time info at this guest virtual address. */
struct vcpu_register_time_memory_area {
    union {
        ENSO_GUEST_HANDLE(vcpu_time_info) h;
        uint64_t p;
    } addr; /* 0 */
};          /* 8 bytes */

#endif
