/*
 * The 2-level event-channel ABI: one pending and one mask bit per port in shared_info
 * (64 words of 64 bits), one selector bit per word in each vcpu_info, and the vCPU's
 * evtchn_upcall_pending flag. The guest changes these words at the same time, so every
 * step is an atomic read-modify-write, in the order that lets the guest's scan (clear
 * the flag, swap the selector out, then read pending & ~mask) never lose an event.
 */
#include <enso/event.h>

#define WORD_BITS 64U

static bool test_and_set(xen_ulong_t *w, unsigned int bit)
{
    xen_ulong_t m = 1UL << bit;

    return __atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m;
}

static bool test_and_clear(xen_ulong_t *w, unsigned int bit)
{
    xen_ulong_t m = 1UL << bit;

    return __atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m;
}

static bool test(const xen_ulong_t *w, unsigned int bit)
{
    return (__atomic_load_n(w, __ATOMIC_SEQ_CST) >> bit) & 1;
}

/* Selector bit for the port's word, then the upcall flag: true when the flag was clear. */
static bool signal_vcpu(struct vcpu_info *vi, evtchn_port_t port)
{
    if (!vi || test_and_set(&vi->evtchn_pending_sel, port / WORD_BITS))
        return false;
    return !(__atomic_fetch_or(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) & 1);
}

unsigned int evtchn_2l_set_pending(struct shared_info *s, struct vcpu_info *vi,
                                   evtchn_port_t port)
{
    unsigned int w = port / WORD_BITS, b = port % WORD_BITS;
    unsigned int r = EVTCHN_NEWLY_PENDING;

    if (port >= EVTCHN_2L_NR_CHANNELS || test_and_set(&s->evtchn_pending[w], b))
        return 0;
    if (!test(&s->evtchn_mask[w], b) && signal_vcpu(vi, port))
        r |= EVTCHN_KICK;
    return r;
}

void evtchn_2l_clear_pending(struct shared_info *s, evtchn_port_t port)
{
    if (port < EVTCHN_2L_NR_CHANNELS)
        test_and_clear(&s->evtchn_pending[port / WORD_BITS], port % WORD_BITS);
}

bool evtchn_2l_unmask(struct shared_info *s, struct vcpu_info *vi, evtchn_port_t port)
{
    unsigned int w = port / WORD_BITS, b = port % WORD_BITS;

    if (port >= EVTCHN_2L_NR_CHANNELS)
        return false;
    return test_and_clear(&s->evtchn_mask[w], b) && test(&s->evtchn_pending[w], b) &&
           signal_vcpu(vi, port);
}

bool evtchn_2l_is_pending(const struct shared_info *s, evtchn_port_t port)
{
    return port < EVTCHN_2L_NR_CHANNELS &&
           test(&s->evtchn_pending[port / WORD_BITS], port % WORD_BITS);
}

bool evtchn_2l_is_masked(const struct shared_info *s, evtchn_port_t port)
{
    return port >= EVTCHN_2L_NR_CHANNELS ||
           test(&s->evtchn_mask[port / WORD_BITS], port % WORD_BITS);
}
