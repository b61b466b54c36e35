/*
 * console_io: the privileged domain's direct line to the serial console. As on Xen,
 * domain 0's output goes out unchanged (it may be interactive); other domains are
 * refused (-EPERM, Xen's answer outside debug builds) and use their console ring.
 */
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/sched.h>
#include <enso/smp.h>
#include <enso/timer.h>
#include <public/xen.h>

static long console_write_from_guest(hc_arg_t buf, unsigned int count)
{
    char kbuf[128];

    while (count) {
        unsigned int n = count < sizeof(kbuf) ? count : sizeof(kbuf);

        if (copy_from_guest(kbuf, buf, n))
            return -EFAULT;
        console_write(kbuf, n);
        buf += n;
        count -= n;
        if (count && hypercall_preempt_check()) {
            hypercall_args()[1] = count;
            hypercall_args()[2] = buf;
            return -ERESTART;
        }
    }
    return 0;
}

/* Domain consoles are polled this often (event channels will make it a wake-up). */
#define CONSOLE_POLL MILLISECS(10)

static struct timer console_timer;

/* One line of a domain's output, prefixed so interleaved domains stay readable. */
static void emit_line(struct domain *d)
{
    char line[160];
    int n = snprintf(line, sizeof(line), "(d%u) %.*s\n", d->domain_id, (int)d->console_len,
                     d->console_line);

    console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
    d->console_len = 0;
}

static void drain_ring(struct domain *d)
{
    struct xencons_interface *r = d->console_ring;
    uint32_t cons = r->out_cons, prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);

    /* A guest can write any indices: never consume more than the ring holds. */
    if (prod - cons > sizeof(r->out))
        cons = prod - sizeof(r->out);
    for (; cons != prod; cons++) {
        char c = r->out[MASK_XENCONS_IDX(cons, r->out)];
        if (c == '\n' || d->console_len == sizeof(d->console_line)) {
            emit_line(d);
            if (c == '\n')
                continue;
        }
        if (c == '\r')
            continue;
        d->console_line[d->console_len++] = (c >= 32 && c < 127) || c == '\t' ? c : '?';
    }
    __atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
}

static void poll_consoles(void *data)
{
    struct domain *d;

    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list)
        if (d->console_ring && d->state != DOMST_dying)
            drain_ring(d);
    spin_unlock(&domain_list_lock);
    set_timer(&console_timer, NOW() + CONSOLE_POLL);
}

void guest_console_start(void)
{
    init_timer(&console_timer, poll_consoles, NULL, smp_processor_id());
    set_timer(&console_timer, NOW() + CONSOLE_POLL);
}

long do_console_io(hc_arg_t cmd, hc_arg_t count, hc_arg_t buf)
{
    if (!current->domain->is_privileged)
        return -EPERM;
    switch ((unsigned int)cmd) {
    case CONSOLEIO_write:
        return console_write_from_guest(buf, (unsigned int)count);
    case CONSOLEIO_read:
        if ((unsigned int)count > 0x7fffffffU)
            return -E2BIG;
        return 0; /* serial input is not switched to guests yet */
    default:
        return -ENOSYS;
    }
}
