/*
 * Event channels in a test kernel (see <guest/events.h>): the callback's entry and
 * scan, shared_info bit helpers, the event_channel_op wrappers and system time.
 */
#include <guest/events.h>

volatile struct event_upcall_record event_upcall;
volatile uint32_t event_seen[EVTCHN_2L_NR_CHANNELS];
void (*volatile event_hook)(evtchn_port_t port);
void (*volatile event_scan)(void);

/* The callback's view of the interrupted context: saved GPRs, then the bounce frame. */
struct event_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(__HYPERVISOR_iret == 23, "the entry below jumps to stub 23");

/*
 * The frame is rcx, r11, rip, cs, rflags, rsp, ss (no error code). Put rcx and r11
 * back, save everything, scan, and return through the iret hypercall (flags 0: rcx
 * and r11 restored too), which also restores the event mask from the frame's IF.
 */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl event_callback_entry\n"
        "event_callback_entry:\n"
        "    pop %rcx\n"
        "    pop %r11\n"
        "    push %rdi\n    push %rsi\n    push %rdx\n    push %rcx\n    push %rax\n"
        "    push %r8\n    push %r9\n    push %r10\n    push %r11\n    push %rbx\n"
        "    push %rbp\n    push %r12\n    push %r13\n    push %r14\n    push %r15\n"
        "    mov %rsp, %rdi\n"
        "    mov %rsp, %rbp\n"
        "    and $-16, %rsp\n"
        "    cld\n"
        "    call event_dispatch\n"
        "    mov %rbp, %rsp\n"
        "    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n"
        "    pop %rbx\n    pop %r11\n    pop %r10\n    pop %r9\n    pop %r8\n"
        "    pop %rax\n    pop %rcx\n    pop %rdx\n    pop %rsi\n    pop %rdi\n"
        "    push $0\n"
        "    cmpb $0, iret_via_syscall(%rip)\n"
        "    jne 1f\n"
        "    jmp hypercall_page + 23 * 32\n"
        "1:  push %rcx\n    push %r11\n    push %rax\n"
        "    mov $23, %eax\n"
        "    syscall\n"
        "    ud2\n"
        ".popsection\n");

extern char event_callback_entry[];
void event_dispatch(struct event_frame *f);

static struct vcpu_info *vcpu0(void)
{
    return &shared_info->vcpu_info[0];
}

/* Every port pending and not masked in the selected words: cleared and counted. */
void event_dispatch(struct event_frame *f)
{
    struct vcpu_info *vi = vcpu0();
    xen_ulong_t sel;

    event_upcall.count++;
    event_upcall.rip = f->rip;
    event_upcall.cs = f->cs;
    event_upcall.rflags = f->rflags;
    event_upcall.rsp = f->rsp;
    event_upcall.ss = f->ss;
    event_upcall.entry_rsp = (uint64_t)&f->rip - 16;
    event_upcall.mask_at_entry = READ_ONCE(vi->evtchn_upcall_mask);
    event_upcall.pending_at_entry = READ_ONCE(vi->evtchn_upcall_pending);

    WRITE_ONCE(vi->evtchn_upcall_pending, 0);
    if (event_scan) {
        event_scan();
        return;
    }
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = (unsigned int)__builtin_ctzl(sel);
        xen_ulong_t bits;

        sel &= sel - 1;
        bits = READ_ONCE(shared_info->evtchn_pending[w]) & ~READ_ONCE(shared_info->evtchn_mask[w]);
        while (bits) {
            unsigned int b = (unsigned int)__builtin_ctzl(bits);
            evtchn_port_t port = w * 64 + b;

            bits &= bits - 1;
            __atomic_fetch_and(&shared_info->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
            event_seen[port]++;
            if (event_hook)
                event_hook(port);
        }
    }
}

long events_install(void)
{
    struct callback_register reg = {
        .type = CALLBACKTYPE_event,
        .address = (uint64_t)event_callback_entry,
    };

    events_forget();
    return HYPERVISOR_callback_op(CALLBACKOP_register, &reg);
}

void events_forget(void)
{
    memset((void *)&event_upcall, 0, sizeof(event_upcall));
    memset((void *)event_seen, 0, sizeof(event_seen));
}

void events_mask(void)
{
    WRITE_ONCE(vcpu0()->evtchn_upcall_mask, 1);
    barrier();
}

void events_unmask(void)
{
    barrier();
    WRITE_ONCE(vcpu0()->evtchn_upcall_mask, 0);
}

bool events_masked(void)
{
    return READ_ONCE(vcpu0()->evtchn_upcall_mask);
}

bool port_pending(evtchn_port_t port)
{
    return (READ_ONCE(shared_info->evtchn_pending[port / 64]) >> (port % 64)) & 1;
}

bool port_masked(evtchn_port_t port)
{
    return (READ_ONCE(shared_info->evtchn_mask[port / 64]) >> (port % 64)) & 1;
}

void port_clear_pending(evtchn_port_t port)
{
    __atomic_fetch_and(&shared_info->evtchn_pending[port / 64], ~(1UL << (port % 64)),
                       __ATOMIC_SEQ_CST);
}

void port_set_mask(evtchn_port_t port, bool masked)
{
    if (masked)
        __atomic_fetch_or(&shared_info->evtchn_mask[port / 64], 1UL << (port % 64),
                          __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&shared_info->evtchn_mask[port / 64], ~(1UL << (port % 64)),
                           __ATOMIC_SEQ_CST);
}

bool upcall_pending(void)
{
    return READ_ONCE(vcpu0()->evtchn_upcall_pending);
}

bool selector_has(evtchn_port_t port)
{
    return (READ_ONCE(vcpu0()->evtchn_pending_sel) >> (port / 64)) & 1;
}

void upcall_clear(void)
{
    WRITE_ONCE(vcpu0()->evtchn_upcall_pending, 0);
    __atomic_store_n(&vcpu0()->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

long evtchn_alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);

    if (!rc && port)
        *port = a.port;
    return rc;
}

long evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port,
                             evtchn_port_t *local)
{
    struct evtchn_bind_interdomain b = { .remote_dom = remote_dom, .remote_port = remote_port };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);

    if (!rc && local)
        *local = b.local_port;
    return rc;
}

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);

    if (!rc && port)
        *port = b.port;
    return rc;
}

long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);

    if (!rc && port)
        *port = b.port;
    return rc;
}

long evtchn_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

long evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

long evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask u = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}

long evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };

    return HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &b);
}

long evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *st)
{
    st->dom = dom;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

long poll_ports(const evtchn_port_t *ports, unsigned int n, uint64_t timeout)
{
    struct sched_poll sp = { .nr_ports = n, .timeout = timeout };

    enso_set_guest_handle(sp.ports, ports);
    return HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
}

long block_vcpu(void)
{
    return HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

uint64_t system_time_of(const struct vcpu_time_info *info)
{
    const volatile struct vcpu_time_info *t = info;
    uint64_t tsc, stamp, sys, delta;
    uint32_t version, mul;
    int8_t shift;

    do {
        version = t->version;
        barrier();
        tsc = rdtsc();
        stamp = t->tsc_timestamp;
        sys = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        barrier();
    } while ((version & 1) || version != t->version);
    delta = tsc - stamp;
    delta = shift < 0 ? delta >> -shift : delta << shift;
    return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t system_time(void)
{
    return system_time_of(&vcpu0()->time);
}
