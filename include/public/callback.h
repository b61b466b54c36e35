/*
 * Guest entry points: HYPERVISOR_callback_op(int cmd, const void *arg). Numbers and
 * layouts follow Xen 4.17's 64-bit x86 ABI; byte offsets are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_CALLBACK_H
#define ENSO_PUBLIC_CALLBACK_H

#include <public/xen.h>

#define CALLBACKTYPE_event 0               /* event channel upcall */
#define CALLBACKTYPE_failsafe 1            /* a segment reload on return failed */
#define CALLBACKTYPE_syscall 2             /* 64-bit syscall from guest user mode */
#define CALLBACKTYPE_sysenter_deprecated 3 /* old number, not for new guests */
#define CALLBACKTYPE_nmi 4                 /* NMI */
#define CALLBACKTYPE_sysenter 5            /* sysenter from 32-bit user mode */
/* 6 is unused. */
#define CALLBACKTYPE_syscall32 7           /* syscall from 32-bit user mode */

/* callback_register.flags: mask events on entry, as an interrupt gate would. */
#define _CALLBACKF_mask_events 0
#define CALLBACKF_mask_events (1U << _CALLBACKF_mask_events)

#define CALLBACKOP_register 0   /* struct callback_register */
#define CALLBACKOP_unregister 1 /* struct callback_unregister */

struct callback_register {
    uint16_t type;          /* 0: CALLBACKTYPE_* */
    uint16_t flags;         /* 2: CALLBACKF_* */
    uint32_t pad_;          /* 4: implicit padding in Xen's layout */
    xen_callback_t address; /* 8 */
};                          /* 16 bytes */

struct callback_unregister {
    uint16_t type;    /* 0: CALLBACKTYPE_* */
    uint16_t _unused; /* 2 */
};                    /* 4 bytes */

#endif
