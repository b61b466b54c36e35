/*
 * Event channels in a test kernel: the event_channel_op wrappers, vCPU 0's bits in
 * shared_info, an event callback that scans them like a real guest, and system time
 * (for SCHEDOP_poll timeouts).
 *
 * events_install() registers the callback (CALLBACKTYPE_event). While events are
 * unmasked (events_unmask()), the hypervisor enters it on its way back to the kernel
 * whenever evtchn_upcall_pending is set: it records the frame, clears the flag, takes
 * the selector word, and for every port pending and not masked clears the pending bit
 * and counts it in event_seen[] (then calls event_hook, if set). It returns with the
 * iret hypercall, which restores the event mask the frame carries.
 */
#ifndef GUEST_EVENTS_H
#define GUEST_EVENTS_H

#include <guest/guest.h>

/* What the last upcall looked like. */
struct event_upcall_record {
    unsigned long count;    /* upcalls taken since events_install() or events_forget() */
    uint64_t rip, cs, rflags, rsp, ss; /* the frame (cs: saved mask in bits 32-39) */
    uint64_t entry_rsp;     /* rsp at the callback: the frame's first word (rcx) */
    uint8_t mask_at_entry;  /* evtchn_upcall_mask when the callback began */
    uint8_t pending_at_entry; /* evtchn_upcall_pending when the callback began */
};

extern volatile struct event_upcall_record event_upcall;
/* How often the callback found each port pending (and cleared it). */
extern volatile uint32_t event_seen[EVTCHN_2L_NR_CHANNELS];
/* Called by the callback for each port it clears, if set. */
extern void (*volatile event_hook)(evtchn_port_t port);
/* If set, the callback calls this instead of its 2-level scan, once the frame is
 * recorded and evtchn_upcall_pending cleared (a FIFO guest's own scan). */
extern void (*volatile event_scan)(void);

/* Register the library's callback; the callback_op result. */
long events_install(void);
/* Zero the upcall record and event_seen[]. */
void events_forget(void);
/* vCPU 0's evtchn_upcall_mask: masked stops upcalls; unmasked lets the next return
 * from the hypervisor take one (events_unmask does not enter the hypervisor itself). */
void events_mask(void);
void events_unmask(void);
bool events_masked(void);

/* The 2-level bits of a port, and vCPU 0's flag and selector. */
bool port_pending(evtchn_port_t port);
bool port_masked(evtchn_port_t port);
void port_clear_pending(evtchn_port_t port);
void port_set_mask(evtchn_port_t port, bool masked);
bool upcall_pending(void);
bool selector_has(evtchn_port_t port);
/* Clear vCPU 0's flag and selector (with events masked), as a scan would. */
void upcall_clear(void);

/* event_channel_op wrappers: the hypercall's result; outputs only on success. */
long evtchn_alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port,
                             evtchn_port_t *local);
long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long evtchn_close(evtchn_port_t port);
long evtchn_send(evtchn_port_t port);
long evtchn_unmask(evtchn_port_t port);
long evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
/* st is filled in by the hypervisor; dom and port are set here. */
long evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *st);

/* SCHEDOP_poll on n ports with an absolute system-time timeout (0: none). */
long poll_ports(const evtchn_port_t *ports, unsigned int n, uint64_t timeout);
/* SCHEDOP_block. */
long block_vcpu(void);

/* System time in ns, from vCPU 0's time record and the TSC. */
uint64_t system_time(void);
/* The same from any vcpu_time_info (another vCPU's, or a registered copy). */
uint64_t system_time_of(const struct vcpu_time_info *info);
#define MILLISECS(ms) ((uint64_t)(ms) * 1000000UL)
#define SECONDS(s) ((uint64_t)(s) * 1000000000UL)

#endif
