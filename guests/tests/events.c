/*
 * Event channels, 2-level ABI, as Xen 4.17 does them for a 64-bit PV domain: every
 * event_channel_op (pirq and the FIFO set-up excepted), its errnos and the order of
 * its checks, the pending/mask/selector bits and evtchn_upcall_pending, the upcall into
 * the event callback and its frame, SCHEDOP_block and SCHEDOP_poll.
 *
 * Runs as domain 0 (tests/guests/run.py, on Xen and enso) and as an unprivileged domU
 * (tests/qemu/domain_tests.py, on enso), where the checks that depend on privilege take
 * the other branch. With pingpong=serve|join (and pp_peer=, pp_rounds=) the last test
 * exchanges events with another domain running this kernel: the server allocates a
 * port for the peer, the joiner finds it by trying the server's ports in turn.
 */
#include <guest/events.h>
#include <guest/pt.h>
#include <guest/test.h>
#include <public/console.h>

#define EVTCHNOP_reset_cont 14 /* Xen's continuation of reset */
#define NO_DOMAIN 100          /* a domain id that does not exist in these runs */
#define BAD_PORT 4096          /* past the 2-level ABI's 4096 ports */
#define FAR_PORT 1000          /* in range, but in a bucket never allocated here */

static domid_t self_id = DOMID_INVALID;

static bool privileged(void)
{
    return start_info->flags & SIF_PRIVILEGED;
}

/* Every test starts with events masked and nothing pending on vCPU 0. */
static void fresh(void)
{
    events_mask();
    upcall_clear();
    events_forget();
}

static long status_of(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    return evtchn_status(DOMID_SELF, port, st);
}

static uint32_t state_of(evtchn_port_t port)
{
    struct evtchn_status st;

    return status_of(port, &st) ? 0xdead : st.status;
}

/* a (unbound for ourselves) and b bound to it; b's pending bit from the bind cleared. */
static bool loopback(evtchn_port_t *a, evtchn_port_t *b)
{
    if (evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, a) ||
        evtchn_bind_interdomain(DOMID_SELF, *a, b))
        return false;
    port_clear_pending(*a);
    port_clear_pending(*b);
    port_set_mask(*a, false);
    port_set_mask(*b, false);
    return true;
}

static void force_upcall_check(void)
{
    HYPERVISOR_xen_version(XENVER_version, NULL); /* any hypercall returns through it */
}

TEST(alloc_unbound)
{
    struct evtchn_status st;
    evtchn_port_t a, b, c;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    CHECK(a != 0);
    CHECK_EQ(status_of(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.vcpu, 0);
    /* DOMID_SELF as the remote is stored as the caller's own id. */
    self_id = st.u.unbound.dom;
    INFO("own domain id %u, first port %u", self_id, a);
    if (start_info->flags & SIF_INITDOMAIN)
        CHECK_EQ(self_id, 0);
    CHECK(self_id != DOMID_SELF);
    /* The same port by the domain's own id. */
    memset(&st, 0, sizeof(st));
    CHECK_EQ(evtchn_status(self_id, a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    /* The remote domain need not exist. */
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, NO_DOMAIN, &b), 0);
    CHECK_EQ(b, a + 1);
    CHECK_EQ(status_of(b, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, NO_DOMAIN);
    /* Ports are handed out lowest free first. */
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(state_of(a), EVTCHNSTAT_closed);
    CHECK_EQ(evtchn_alloc_unbound(self_id, self_id, &c), 0);
    CHECK_EQ(c, a);
    CHECK_EQ(evtchn_close(b), 0);
    CHECK_EQ(evtchn_close(c), 0);
}

TEST(alloc_unbound_errors)
{
    struct evtchn_alloc_unbound *ro = (struct evtchn_alloc_unbound *)scratch_page;
    evtchn_port_t p, q;
    long rc;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(NO_DOMAIN, DOMID_SELF, &p), -ESRCH);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_FIRST_RESERVED - 1, DOMID_SELF, &p), -ESRCH);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, NULL), -EFAULT);
    /* A result that cannot be written back: -EFAULT, and the port stays allocated. */
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
    *ro = (struct evtchn_alloc_unbound){ .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    CHECK_EQ(scratch_map(image_mfn(scratch_page), 0), 0); /* read-only */
    rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, ro);
    scratch_restore();
    CHECK_EQ(rc, -EFAULT);
    CHECK_EQ(state_of(p + 1), EVTCHNSTAT_unbound);
    CHECK_EQ(evtchn_close(p + 1), 0);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &q), 0);
    CHECK_EQ(q, p + 1);
    CHECK_EQ(evtchn_close(q), 0);
    CHECK_EQ(evtchn_close(p), 0);
}

TEST(loopback)
{
    struct evtchn_status st;
    evtchn_port_t a, b, c;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    port_clear_pending(a);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    CHECK(b != a);
    /* As Xen documents: the new local end starts out pending, the other does not. */
    CHECK(port_pending(b));
    CHECK(!port_pending(a));
    CHECK_EQ(status_of(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, self_id);
    CHECK_EQ(st.u.interdomain.port, b);
    CHECK_EQ(status_of(b, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, self_id);
    CHECK_EQ(st.u.interdomain.port, a);
    /* Each end signals the other. */
    port_clear_pending(b);
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(port_pending(b));
    CHECK(!port_pending(a));
    port_clear_pending(b);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK(port_pending(a));
    CHECK(!port_pending(b));
    /* Closing one end: its pending bit goes, the other end waits for us again. */
    CHECK_EQ(evtchn_close(a), 0);
    CHECK(!port_pending(a));
    CHECK_EQ(state_of(a), EVTCHNSTAT_closed);
    CHECK_EQ(status_of(b, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, self_id);
    /* Sending on an unbound port is dropped silently. */
    CHECK_EQ(evtchn_send(b), 0);
    /* And it can be bound again. */
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, b, &c), 0);
    CHECK_EQ(c, a);
    CHECK_EQ(status_of(b, &st), 0);
    CHECK_EQ(st.u.interdomain.port, c);
    CHECK_EQ(evtchn_close(b), 0);
    CHECK_EQ(evtchn_close(c), 0);
}

TEST(bind_interdomain_errors)
{
    evtchn_port_t a, other, ipi, free_port, l, a2, b2;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, NO_DOMAIN, &other), 0);
    CHECK_EQ(evtchn_bind_ipi(0, &ipi), 0);
    CHECK(loopback(&a2, &b2));
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &free_port), 0);
    CHECK_EQ(evtchn_close(free_port), 0);

    CHECK_EQ(evtchn_bind_interdomain(NO_DOMAIN, a, &l), -ESRCH);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, BAD_PORT, &l), -EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, FAR_PORT, &l), -EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, 0, &l), -EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, free_port, &l), -EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, ipi, &l), -EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, other, &l), -EINVAL); /* not for us */
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, a2, &l), -EINVAL);    /* bound already */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, NULL), -EFAULT);
    /* None of the failures kept the local port it had picked. */
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &l), 0);
    CHECK_EQ(l, free_port);
    CHECK_EQ(evtchn_close(l), 0);
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(other), 0);
    CHECK_EQ(evtchn_close(ipi), 0);
    CHECK_EQ(evtchn_close(a2), 0);
    CHECK_EQ(evtchn_close(b2), 0);
}

/* With events masked: the bits the hypervisor sets, and when it does not. */
TEST(pending_selector_flag)
{
    evtchn_port_t a, b;

    fresh();
    CHECK(loopback(&a, &b));
    upcall_clear();
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(port_pending(b));
    CHECK(selector_has(b));
    CHECK(upcall_pending());
    CHECK_EQ(event_upcall.count, 0); /* masked: no upcall */
    /* Already pending: a second send changes nothing, not even a cleared flag. */
    upcall_clear();
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(port_pending(b));
    CHECK(!selector_has(b));
    CHECK(!upcall_pending());
    /* Pending again after a scan cleared it: all three again. */
    port_clear_pending(b);
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(selector_has(b));
    CHECK(upcall_pending());
    /* A masked port only becomes pending. */
    upcall_clear();
    port_clear_pending(b);
    port_set_mask(b, true);
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(port_pending(b));
    CHECK(!selector_has(b));
    CHECK(!upcall_pending());
    port_set_mask(b, false);
    port_clear_pending(b);
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

TEST(upcall)
{
    const uint64_t kernel_cs = FLAT_KERNEL_CS & ~3UL;
    evtchn_port_t a, b;

    fresh();
    CHECK_EQ(events_install(), 0);
    CHECK(loopback(&a, &b));
    upcall_clear();
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(upcall_pending());
    force_upcall_check();
    CHECK_EQ(event_upcall.count, 0);
    /* Unmasked: the next return from the hypervisor enters the callback. */
    events_unmask();
    force_upcall_check();
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(event_seen[b], 1);
    CHECK(!port_pending(b));
    INFO("upcall at rip %#lx, rsp %#lx, rflags %#lx", (unsigned long)event_upcall.rip,
         (unsigned long)event_upcall.rsp, (unsigned long)event_upcall.rflags);
    /* Entered with events masked; the frame says they were not (cs bits 32-39 and IF),
     * cs with RPL 0 for the kernel; no error code, 16-byte aligned below the rsp. */
    CHECK_EQ(event_upcall.mask_at_entry, 1);
    CHECK_EQ(event_upcall.pending_at_entry, 1);
    CHECK_EQ(event_upcall.cs, kernel_cs);
    CHECK(event_upcall.rflags & X86_EFLAGS_IF);
    CHECK_EQ(event_upcall.ss, FLAT_KERNEL_SS);
    CHECK_EQ(event_upcall.entry_rsp, (event_upcall.rsp & ~15UL) - 56);
    /* The iret at its end restored the mask from IF. */
    CHECK(!events_masked());
    /* Unmasked, a send is delivered on the way back from the send itself. */
    CHECK_EQ(evtchn_send(a), 0);
    CHECK_EQ(event_upcall.count, 2);
    CHECK_EQ(event_seen[b], 2);
    /* Both ends, one upcall: the callback finds them both. */
    events_mask();
    CHECK_EQ(evtchn_send(a), 0);
    CHECK_EQ(evtchn_send(b), 0);
    events_unmask();
    force_upcall_check();
    CHECK_EQ(event_upcall.count, 3);
    CHECK_EQ(event_seen[a], 1);
    CHECK_EQ(event_seen[b], 3);
    events_mask();
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

TEST(unmask)
{
    evtchn_port_t a, b, spare;

    fresh();
    CHECK_EQ(events_install(), 0);
    CHECK(loopback(&a, &b));
    /* Masked: pending only. Unmasking re-raises selector and flag. */
    port_set_mask(b, true);
    upcall_clear();
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(port_pending(b));
    CHECK(!upcall_pending());
    CHECK_EQ(evtchn_unmask(b), 0);
    CHECK(!port_masked(b));
    CHECK(selector_has(b));
    CHECK(upcall_pending());
    CHECK_EQ(event_upcall.count, 0);
    /* With events unmasked the event arrives on the way back from the unmask. */
    port_clear_pending(b);
    upcall_clear();
    port_set_mask(b, true);
    CHECK_EQ(evtchn_send(a), 0);
    events_unmask();
    force_upcall_check();
    CHECK_EQ(event_upcall.count, 0);
    CHECK_EQ(evtchn_unmask(b), 0);
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(event_seen[b], 1);
    events_mask();
    /* Unmasking a port that is not pending only clears its mask bit. */
    upcall_clear();
    port_set_mask(b, true);
    CHECK_EQ(evtchn_unmask(b), 0);
    CHECK(!port_masked(b));
    CHECK(!upcall_pending());
    /* A port that is not bound keeps its mask bit; not valid: -EINVAL. */
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &spare), 0);
    CHECK_EQ(evtchn_close(spare), 0);
    port_set_mask(spare, true);
    CHECK_EQ(evtchn_unmask(spare), 0);
    CHECK(port_masked(spare));
    port_set_mask(spare, false);
    port_set_mask(0, true);
    CHECK_EQ(evtchn_unmask(0), 0);
    CHECK(port_masked(0));
    port_set_mask(0, false);
    CHECK_EQ(evtchn_unmask(BAD_PORT), -EINVAL);
    CHECK_EQ(evtchn_unmask(FAR_PORT), -EINVAL);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_unmask, NULL), -EFAULT);
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

TEST(block_with_event_pending)
{
    evtchn_port_t a, b;

    fresh();
    CHECK_EQ(events_install(), 0);
    CHECK(loopback(&a, &b));
    CHECK_EQ(evtchn_send(a), 0);
    CHECK(upcall_pending());
    /* Block unmasks events and, one being pending, returns at once into the upcall. */
    CHECK_EQ(block_vcpu(), 0);
    CHECK_EQ(event_upcall.count, 1);
    CHECK_EQ(event_seen[b], 1);
    CHECK(!events_masked());
    events_mask();
    /* The old sched_op_compat form does the same. */
    CHECK_EQ(evtchn_send(a), 0);
    CHECK_EQ(hypercall(__HYPERVISOR_sched_op_compat, SCHEDOP_block, 0, 0, 0, 0), 0);
    CHECK_EQ(event_upcall.count, 2);
    CHECK(!events_masked());
    events_mask();
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

TEST(poll)
{
    evtchn_port_t a, b, c, d, closed, list[2];
    uint64_t t0, t1;

    fresh();
    CHECK(loopback(&a, &b));
    CHECK(loopback(&c, &d));
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &closed), 0);
    CHECK_EQ(evtchn_close(closed), 0);

    /* Nothing pending: sleeps until the timeout. */
    t0 = system_time();
    CHECK_EQ(poll_ports(&b, 1, t0 + MILLISECS(30)), 0);
    t1 = system_time();
    INFO("poll with a 30 ms timeout took %lu us", (unsigned long)(t1 - t0) / 1000);
    CHECK(t1 - t0 >= MILLISECS(29)); /* Xen may fire a timer 50 us early */
    CHECK(t1 - t0 < SECONDS(5));
    /* A deadline in the past, with no ports at all: at once. */
    t0 = system_time();
    CHECK_EQ(poll_ports(NULL, 0, 1), 0);
    CHECK(system_time() - t0 < MILLISECS(500));

    /* A pending port: at once, and it stays pending (poll does not consume). */
    CHECK_EQ(evtchn_send(a), 0);
    t0 = system_time();
    CHECK_EQ(poll_ports(&b, 1, t0 + SECONDS(10)), 0);
    CHECK(system_time() - t0 < SECONDS(2));
    CHECK(port_pending(b));
    /* Any one of several. */
    list[0] = d;
    list[1] = b;
    t0 = system_time();
    CHECK_EQ(poll_ports(list, 2, t0 + SECONDS(10)), 0);
    CHECK(system_time() - t0 < SECONDS(2));

    /* Ports are checked in order, up to the first pending one. */
    list[0] = b;
    list[1] = BAD_PORT;
    CHECK_EQ(poll_ports(list, 2, 1), 0);
    list[0] = BAD_PORT;
    list[1] = b;
    CHECK_EQ(poll_ports(list, 2, 1), -EINVAL);
    /* Not valid, reserved, or not bound: -EINVAL. */
    CHECK_EQ(poll_ports((evtchn_port_t[]){ FAR_PORT }, 1, 1), -EINVAL);
    CHECK_EQ(poll_ports((evtchn_port_t[]){ 0 }, 1, 1), -EINVAL);
    CHECK_EQ(poll_ports(&closed, 1, 1), -EINVAL);
    CHECK_EQ(poll_ports((evtchn_port_t *)(uintptr_t)0xffff800000000000UL, 0, 1), -EFAULT);

    port_clear_pending(b);
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
    CHECK_EQ(evtchn_close(c), 0);
    CHECK_EQ(evtchn_close(d), 0);
}

/*
 * An event due for delivery (flag set, events unmasked) ends a poll before its ports
 * are even read. Unmasking without entering the hypervisor leaves the flag for the
 * poll to see, unless an interrupt slips in between (then the upcall is elsewhere and
 * the attempt is repeated).
 */
TEST(poll_with_upcall_due)
{
    evtchn_port_t a, b;
    bool seen = false;

    fresh();
    CHECK_EQ(events_install(), 0);
    CHECK(loopback(&a, &b));
    for (int i = 0; i < 10 && !seen; i++) {
        long rc;

        events_mask();
        events_forget();
        CHECK_EQ(evtchn_send(a), 0);
        events_unmask();
        rc = poll_ports((evtchn_port_t[]){ BAD_PORT }, 1, 1);
        events_mask();
        CHECK_EQ(event_upcall.count, 1);
        seen = rc == 0;
        if (!seen)
            CHECK_EQ(rc, -EINVAL);
    }
    CHECK(seen);
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

TEST(bind_virq)
{
    struct evtchn_status st;
    evtchn_port_t dbg, con, other, p;

    fresh();
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &dbg), 0);
    CHECK_EQ(status_of(dbg, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_DEBUG);
    CHECK_EQ(st.vcpu, 0);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &p), -EEXIST);
    /* Per-vCPU VIRQ on a vCPU that does not exist; global ones only on vCPU 0. */
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 1, &p), -ENOENT);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0xffffffffU, &p), -ENOENT);
    CHECK_EQ(evtchn_bind_virq(VIRQ_CONSOLE, 1, &p), -EINVAL);
    CHECK_EQ(evtchn_bind_virq(VIRQ_ARCH_0, 1, &p), -EINVAL);
    CHECK_EQ(evtchn_bind_virq(NR_VIRQS, 0, &p), -EINVAL);
    CHECK_EQ(evtchn_bind_virq(0xffffffffU, 0, &p), -EINVAL);
    CHECK_EQ(evtchn_bind_virq(VIRQ_CONSOLE, 0, &con), 0);
    CHECK_EQ(status_of(con, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_CONSOLE);
    CHECK_EQ(evtchn_bind_virq(VIRQ_CONSOLE, 0, &p), -EEXIST);
    /* A number no VIRQ has yet binds all the same. */
    CHECK_EQ(evtchn_bind_virq(5, 0, &other), 0);
    CHECK_EQ(state_of(other), EVTCHNSTAT_virq);
    /* A guest cannot send on a VIRQ; only a global one may move to another vCPU. */
    CHECK_EQ(evtchn_send(dbg), -EINVAL);
    CHECK_EQ(evtchn_bind_vcpu(dbg, 0), -EINVAL);
    CHECK_EQ(evtchn_bind_vcpu(con, 0), 0);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, NULL), -EFAULT);
    /* Closed, the VIRQ can be bound again. */
    CHECK_EQ(evtchn_close(dbg), 0);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &p), 0);
    CHECK_EQ(p, dbg);
    CHECK_EQ(evtchn_close(p), 0);
    CHECK_EQ(evtchn_close(con), 0);
    CHECK_EQ(evtchn_close(other), 0);
}

TEST(bind_ipi)
{
    struct evtchn_status st;
    evtchn_port_t ipi, p;

    fresh();
    CHECK_EQ(evtchn_bind_ipi(0, &ipi), 0);
    port_clear_pending(ipi);
    port_set_mask(ipi, false);
    /* Fields that do not apply come back as they were sent. */
    memset(&st, 0x5a, sizeof(st));
    CHECK_EQ(evtchn_status(DOMID_SELF, ipi, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 0);
    CHECK_EQ(st.u.interdomain.dom, 0x5a5a);
    CHECK_EQ(st.u.interdomain.port, 0x5a5a5a5a);
    /* Send to self. */
    upcall_clear();
    CHECK_EQ(evtchn_send(ipi), 0);
    CHECK(port_pending(ipi));
    CHECK(selector_has(ipi));
    CHECK(upcall_pending());
    CHECK_EQ(evtchn_bind_ipi(1, &p), -ENOENT);
    CHECK_EQ(evtchn_bind_ipi(0xffffffffU, &p), -ENOENT);
    CHECK_EQ(evtchn_bind_vcpu(ipi, 0), -EINVAL);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, NULL), -EFAULT);
    CHECK_EQ(evtchn_close(ipi), 0);
    CHECK(!port_pending(ipi));
    upcall_clear();
}

TEST(status)
{
    struct evtchn_status st;
    evtchn_port_t p, first_invalid = 0;

    fresh();
    /* Port 0 is reserved: closed, vCPU 0. */
    memset(&st, 0x5a, sizeof(st));
    CHECK_EQ(evtchn_status(DOMID_SELF, 0, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(st.vcpu, 0);
    CHECK_EQ(st.u.interdomain.port, 0x5a5a5a5a);
    CHECK_EQ(status_of(BAD_PORT, &st), -EINVAL);
    CHECK_EQ(status_of(0xffffffffU, &st), -EINVAL);
    CHECK_EQ(evtchn_status(NO_DOMAIN, 1, &st), -ESRCH);
    CHECK_EQ(evtchn_status(NO_DOMAIN, BAD_PORT, &st), -ESRCH); /* the domain first */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_status, NULL), -EFAULT);
    /* Ports exist in buckets: free ones inside are closed, the rest -EINVAL. */
    for (p = 1; p < BAD_PORT && !first_invalid; p++) {
        long rc = status_of(p, &st);

        if (rc == -EINVAL)
            first_invalid = p;
        else
            CHECK_EQ(rc, 0);
    }
    INFO("first port without storage: %u", first_invalid);
    CHECK_EQ(first_invalid, 64);
}

TEST(close_errors)
{
    evtchn_port_t p;

    fresh();
    CHECK_EQ(evtchn_close(0), -EINVAL);
    CHECK_EQ(evtchn_close(BAD_PORT), -EINVAL);
    CHECK_EQ(evtchn_close(FAR_PORT), -EINVAL);
    CHECK_EQ(evtchn_close(0xffffffffU), -EINVAL);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
    CHECK_EQ(evtchn_close(p), 0);
    CHECK_EQ(evtchn_close(p), -EINVAL);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_close, NULL), -EFAULT);
}

TEST(send_errors)
{
    evtchn_port_t p;

    fresh();
    CHECK_EQ(evtchn_send(0), -EINVAL);
    CHECK_EQ(evtchn_send(BAD_PORT), -EINVAL);
    CHECK_EQ(evtchn_send(FAR_PORT), -EINVAL);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
    port_clear_pending(p);
    CHECK_EQ(evtchn_send(p), 0); /* unbound: dropped */
    CHECK(!port_pending(p));
    CHECK_EQ(evtchn_close(p), 0);
    CHECK_EQ(evtchn_send(p), -EINVAL);
}

TEST(bind_vcpu)
{
    evtchn_port_t u, a, b, free_port;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &u), 0);
    CHECK(loopback(&a, &b));
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &free_port), 0);
    CHECK_EQ(evtchn_close(free_port), 0);
    CHECK_EQ(evtchn_bind_vcpu(u, 0), 0);
    CHECK_EQ(evtchn_bind_vcpu(a, 0), 0);
    CHECK_EQ(evtchn_bind_vcpu(free_port, 0), -EINVAL);
    CHECK_EQ(evtchn_bind_vcpu(0, 0), -EINVAL);
    CHECK_EQ(evtchn_bind_vcpu(BAD_PORT, 0), -EINVAL);
    /* The vCPU is checked before the port. */
    CHECK_EQ(evtchn_bind_vcpu(u, 1), -ENOENT);
    CHECK_EQ(evtchn_bind_vcpu(BAD_PORT, 1), -ENOENT);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, NULL), -EFAULT);
    CHECK_EQ(evtchn_close(u), 0);
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

/* The FIFO ABI's per-port calls on a 2-level domain (init_control would switch it). */
TEST(fifo_ops_on_2l)
{
    struct evtchn_set_priority sp = { .priority = EVTCHN_FIFO_PRIORITY_DEFAULT };
    struct evtchn_expand_array ea = { .array_gfn = 0 };
    evtchn_port_t p;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
    sp.port = p;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), -ENOSYS);
    sp.port = BAD_PORT;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), -EINVAL);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), -EOPNOTSUPP);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, NULL), -EFAULT);
    CHECK_EQ(HYPERVISOR_event_channel_op(15, &sp), -ENOSYS);
    CHECK_EQ(HYPERVISOR_event_channel_op(-1, &sp), -ENOSYS);
    CHECK_EQ(evtchn_close(p), 0);
}

/* Operations on other domains: privileged callers may, others get -EPERM. */
TEST(other_domains)
{
    struct evtchn_status st;
    struct evtchn_reset r = { .dom = 0 };
    evtchn_port_t p;

    fresh();
    if (privileged()) {
        /* Allowed, but there is no other domain here: -ESRCH. */
        CHECK_EQ(evtchn_alloc_unbound(NO_DOMAIN, DOMID_SELF, &p), -ESRCH);
        CHECK_EQ(evtchn_status(NO_DOMAIN, 1, &st), -ESRCH);
        return;
    }
    CHECK(self_id != 0);
    CHECK_EQ(evtchn_alloc_unbound(0, DOMID_SELF, &p), -EPERM);
    CHECK_EQ(evtchn_status(0, 0, &st), -EPERM);
    CHECK_EQ(evtchn_status(0, BAD_PORT, &st), -EINVAL); /* the port before permission */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), -EPERM);
    /* The failed allocation left the port free in the other domain: nothing to see,
     * but our own next port is still the lowest free one. */
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
    CHECK_EQ(evtchn_close(p), 0);
}

/* A domU's console ring event channel (start_info.console.domU.evtchn). */
TEST(console_port)
{
    struct evtchn_status st;
    evtchn_port_t p = start_info->console.domU.evtchn;

    if (start_info->flags & SIF_INITDOMAIN)
        SKIP("domain 0 has no console ring");
    CHECK(p != 0);
    CHECK_EQ(status_of(p, &st), 0);
    INFO("console port %u: status %u, remote domain %#x port %u, vCPU %u", p, st.status,
         st.u.interdomain.dom, st.u.interdomain.port, st.vcpu);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(evtchn_send(p), 0);
}

/* What has been typed for us: console_io for domain 0, the ring's in half otherwise. */
static size_t read_input(char *buf, size_t size)
{
    struct xencons_interface *r = (struct xencons_interface *)console_ring_page;
    uint32_t cons, prod;
    size_t n = 0;
    long got;

    if (start_info->flags & SIF_INITDOMAIN) {
        got = HYPERVISOR_console_io(CONSOLEIO_read, (unsigned int)size, buf);
        return got > 0 ? (size_t)got : 0;
    }
    cons = r->in_cons;
    prod = READ_ONCE(r->in_prod);
    barrier();
    while (cons != prod && n < size)
        buf[n++] = r->in[MASK_XENCONS_IDX(cons++, r->in)];
    barrier();
    r->in_cons = cons;
    return n;
}

/*
 * With console_event=1: serial input is announced by an event, VIRQ_CONSOLE for
 * domain 0, the console ring's channel for a domU. Blocks for events until a whole
 * line has come, then prints it.
 */
TEST(console_event)
{
    char line[64];
    size_t len = 0;
    evtchn_port_t port;
    uint64_t end = system_time() + SECONDS(300);

    if (!cmdline_get_num("console_event", 0))
        SKIP("no console_event=1 on the command line (run by tests/qemu/domain_tests.py)");
    fresh();
    CHECK_EQ(events_install(), 0);
    if (start_info->flags & SIF_INITDOMAIN)
        CHECK_EQ(evtchn_bind_virq(VIRQ_CONSOLE, 0, &port), 0);
    else
        port = start_info->console.domU.evtchn;
    port_set_mask(port, false);
    printf("console_event: waiting on port %u\n", port);
    for (;;) {
        unsigned int before = event_seen[port];

        len += read_input(line + len, sizeof(line) - 1 - len);
        if (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
            break;
        CHECKF(len < sizeof(line) - 1, "no end of line");
        while (event_seen[port] == before) {
            CHECKF(system_time() < end, "no input announced");
            CHECK_EQ(block_vcpu(), 0);
        }
    }
    events_mask();
    line[len - 1] = 0;
    printf("console_event: got '%s' after %u events\n", line, event_seen[port]);
    /* A line typed before the first read is taken without blocking: its event is then
     * still pending (the upcall stayed masked) rather than seen. */
    CHECK(event_seen[port] > 0 || port_pending(port));
    if (start_info->flags & SIF_INITDOMAIN)
        CHECK_EQ(evtchn_close(port), 0);
}

TEST(ports_exhaust)
{
    static evtchn_port_t got[EVTCHN_2L_NR_CHANNELS];
    unsigned int n = 0, in_use = 0;
    evtchn_port_t p;
    long rc;

    fresh();
    for (p = 1; p < 64; p++)
        in_use += state_of(p) != EVTCHNSTAT_closed;
    while (!(rc = evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p)))
        got[n++] = p;
    INFO("%u ports in use before, %u allocated", in_use, n);
    CHECK_EQ(rc, -ENOSPC);
    CHECK_EQ(n + in_use, EVTCHN_2L_NR_CHANNELS - 1);
    CHECK_EQ(got[n - 1], EVTCHN_2L_NR_CHANNELS - 1);
    CHECK_EQ(state_of(EVTCHN_2L_NR_CHANNELS - 1), EVTCHNSTAT_unbound);
    CHECK_EQ(evtchn_bind_ipi(0, &p), -ENOSPC);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &p), -ENOSPC);
    for (unsigned int i = 0; i < n; i++)
        CHECK_EQ(evtchn_close(got[i]), 0);
    /* The buckets stay: the ports are closed now, not invalid. */
    CHECK_EQ(state_of(FAR_PORT), EVTCHNSTAT_closed);
    CHECK_EQ(state_of(EVTCHN_2L_NR_CHANNELS - 1), EVTCHNSTAT_closed);
    CHECK_EQ(evtchn_close(FAR_PORT), -EINVAL);
    CHECK_EQ(evtchn_unmask(FAR_PORT), 0);
}

TEST(reset)
{
    struct evtchn_reset r = { .dom = DOMID_SELF };
    evtchn_port_t u, a, b, ipi, virq, p;

    fresh();
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, NO_DOMAIN, &u), 0);
    CHECK(loopback(&a, &b));
    CHECK_EQ(evtchn_bind_ipi(0, &ipi), 0);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &virq), 0);
    CHECK_EQ(evtchn_send(ipi), 0);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0);
    CHECK_EQ(state_of(u), EVTCHNSTAT_closed);
    CHECK_EQ(state_of(a), EVTCHNSTAT_closed);
    CHECK_EQ(state_of(b), EVTCHNSTAT_closed);
    CHECK_EQ(state_of(ipi), EVTCHNSTAT_closed);
    CHECK_EQ(state_of(virq), EVTCHNSTAT_closed);
    CHECK(!port_pending(ipi));
    /* Every port closed (a domU's console channel too). */
    for (p = 1; p < 64; p++)
        CHECK_EQ(state_of(p), EVTCHNSTAT_closed);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &p), 0);
    CHECK_EQ(p, 1);
    CHECK_EQ(evtchn_close(p), 0);
    /* Nothing to continue; a domain that does not exist. */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset_cont, &r), -EBUSY);
    r.dom = NO_DOMAIN;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), -ESRCH);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, NULL), -EFAULT);
    upcall_clear();
    if (!(start_info->flags & SIF_INITDOMAIN)) {
        /* The library still signals the console's old port after each write: keep
         * that number taken by an unbound port (sends to it are dropped). */
        CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
        CHECK_EQ(p, start_info->console.domU.evtchn);
    }
}

/* ---- two domains (domain_tests.py) ---- */

/* Wait (yielding) until done() or the time is up. */
static bool wait_until(bool (*done)(evtchn_port_t), evtchn_port_t arg, uint64_t ns)
{
    uint64_t end = system_time() + ns;

    while (!done(arg)) {
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

static domid_t pp_peer;

static bool is_connected(evtchn_port_t p)
{
    struct evtchn_status st;

    return !status_of(p, &st) && st.status == EVTCHNSTAT_interdomain;
}

static bool peer_closed(evtchn_port_t p)
{
    struct evtchn_status st;

    return !status_of(p, &st) && st.status == EVTCHNSTAT_unbound && st.u.unbound.dom == pp_peer;
}

/* Server: a port for the peer; each event from it is answered, waiting with poll. */
static void pingpong_serve(unsigned int rounds)
{
    struct evtchn_status st;
    evtchn_port_t p;
    unsigned int n;

    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, pp_peer, &p), 0);
    printf("pingpong: port %u waits for domain %u\n", p, pp_peer);
    CHECK(wait_until(is_connected, p, SECONDS(60)));
    CHECK_EQ(status_of(p, &st), 0);
    CHECK_EQ(st.u.interdomain.dom, pp_peer);
    for (n = 0; n < rounds; n++) {
        while (!port_pending(p)) {
            uint64_t deadline = system_time() + SECONDS(10);

            CHECK_EQ(poll_ports(&p, 1, deadline), 0);
            CHECKF(port_pending(p) || system_time() < deadline, "round %u: no event", n);
        }
        port_clear_pending(p);
        CHECK_EQ(evtchn_send(p), 0);
    }
    INFO("%u rounds served", n);
    /* The peer's end, seen from here: a privileged caller may look. */
    if (privileged()) {
        evtchn_port_t theirs = st.u.interdomain.port;

        CHECK_EQ(evtchn_status(pp_peer, theirs, &st), 0);
        CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
        CHECK_EQ(st.u.interdomain.dom, self_id);
        CHECK_EQ(st.u.interdomain.port, p);
    }
    CHECK_EQ(evtchn_close(p), 0);
}

static volatile unsigned int pongs;
static evtchn_port_t pp_local;

static void count_pong(evtchn_port_t port)
{
    if (port == pp_local)
        pongs++;
}

/* Joiner: bind to the server's port (tried one by one), ping, and block for the pong. */
static void pingpong_join(unsigned int rounds)
{
    uint64_t end = system_time() + SECONDS(60);
    evtchn_port_t remote = 0;
    unsigned int n;

    for (;;) {
        for (remote = 1; remote < 64; remote++)
            if (!evtchn_bind_interdomain(pp_peer, remote, &pp_local))
                break;
        if (remote < 64)
            break;
        CHECKF(system_time() < end, "no port of domain %u to bind to", pp_peer);
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    printf("pingpong: port %u bound to domain %u port %u\n", pp_local, pp_peer, remote);
    CHECK_EQ(events_install(), 0);
    events_mask();
    port_clear_pending(pp_local); /* the bind left it pending */
    port_set_mask(pp_local, false);
    upcall_clear();
    pongs = 0;
    event_hook = count_pong;
    for (n = 0; n < rounds; n++) {
        uint64_t round_end = system_time() + SECONDS(10);

        CHECK_EQ(evtchn_send(pp_local), 0);
        while (pongs <= n) {
            CHECKF(system_time() < round_end, "round %u: no answer", n);
            CHECK_EQ(block_vcpu(), 0);
        }
        events_mask();
    }
    event_hook = NULL;
    INFO("%u rounds, %lu upcalls", n, event_upcall.count);
    CHECK_EQ(pongs, rounds);
    /* The server closes its end: ours waits for it again. */
    CHECK(wait_until(peer_closed, pp_local, SECONDS(60)));
    CHECK_EQ(evtchn_close(pp_local), 0);
}

TEST(pingpong)
{
    char role[8];
    unsigned int rounds = (unsigned int)cmdline_get_num("pp_rounds", 100);

    if (!cmdline_get("pingpong", role, sizeof(role)))
        SKIP("no pingpong= on the command line (run by tests/qemu/domain_tests.py)");
    pp_peer = (domid_t)cmdline_get_num("pp_peer", 0);
    fresh();
    if (!strcmp(role, "serve"))
        pingpong_serve(rounds);
    else if (!strcmp(role, "join"))
        pingpong_join(rounds);
    else
        CHECKF(false, "pingpong=%s: serve or join", role);
}
