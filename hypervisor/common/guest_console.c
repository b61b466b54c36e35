/*
 * console_io: the privileged domain's direct line to the serial console. As on Xen,
 * domain 0's output goes out unchanged (it may be interactive); other domains are
 * refused (-EPERM, Xen's answer outside debug builds) and use their console ring.
 *
 * Serial input, while a domain has the focus (console.c), goes to that domain: into its
 * console ring if enso serves one for it, else into the buffer CONSOLEIO_read empties
 * (domain 0's way, as on Xen).
 */
#include <enso/cmdline.h>
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/printk.h>
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

/* Typed characters for the console_io reader; as on Xen, 128 and the rest dropped. */
#define INPUT_SIZE 128
static char input_buf[INPUT_SIZE];
static unsigned int input_prod, input_cons;
static DEFINE_SPINLOCK(input_buf_lock);

static long console_read_to_guest(hc_arg_t buf, unsigned int count)
{
    long done = 0;

    spin_lock(&input_buf_lock);
    while (input_cons != input_prod && (unsigned long)done < count) {
        unsigned int idx = input_cons % INPUT_SIZE;
        unsigned int len = MIN(input_prod - input_cons, INPUT_SIZE - idx);

        len = MIN(len, count - (unsigned int)done);
        /* What was copied before a fault is consumed all the same, as on Xen. */
        if (copy_to_guest(buf + (unsigned long)done, input_buf + idx, len)) {
            done = -EFAULT;
            break;
        }
        done += len;
        input_cons += len;
    }
    spin_unlock(&input_buf_lock);
    return done;
}

static void buffer_input(const char *s, size_t len)
{
    spin_lock(&input_buf_lock);
    for (size_t i = 0; i < len && input_prod - input_cons < INPUT_SIZE; i++)
        input_buf[input_prod++ % INPUT_SIZE] = s[i];
    spin_unlock(&input_buf_lock);
}

/* Called with domain_list_lock held, which keeps d and its ring page alive. */
static void deliver_input(struct domain *d, const char *s, size_t len)
{
    if (!d->console_ring) {
        buffer_input(s, len);
        /* As Xen: VIRQ_CONSOLE for every input, even into a full buffer, so a reader
         * waiting for it never stalls. */
        send_guest_global_virq(d, VIRQ_CONSOLE);
        return;
    }
    if (xencons_put_input(d->console_ring, s, len) < len)
        printk(LOG_WARNING "domain %u: console input ring full, %zu typed bytes lost\n",
               d->domain_id, len);
    evtchn_notify_from_enso(d, d->console_evtchn);
}

static bool is_live(const struct domain *d)
{
    return d->state == DOMST_running;
}

int guest_console_next_input(int after)
{
    struct domain *d;
    int next = CONSOLE_FOCUS_ENSO;

    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list)
        if (is_live(d) && d->domain_id > after &&
            (next == CONSOLE_FOCUS_ENSO || d->domain_id < next))
            next = d->domain_id;
    spin_unlock(&domain_list_lock);
    return next;
}

/* Whether domain id is live; if it is and s is given, it gets the bytes. */
static bool with_live_domain(int id, const char *s, size_t len)
{
    struct domain *d;
    bool found = false;

    spin_lock(&domain_list_lock);
    list_for_each_entry(d, &domain_list, list) {
        if (d->domain_id == id && is_live(d)) {
            found = true;
            if (s)
                deliver_input(d, s, len);
            break;
        }
    }
    spin_unlock(&domain_list_lock);
    return found;
}

bool guest_console_live(int id)
{
    return with_live_domain(id, NULL, 0);
}

bool guest_console_input(int id, const char *s, size_t len)
{
    return with_live_domain(id, s, len);
}

/* Domain consoles are polled this often, and drained at once when a guest signals. */
#define CONSOLE_POLL MILLISECS(10)

static struct timer console_timer;
static bool console_timer_ready;

/* One line of a domain's output, prefixed so interleaved domains stay readable. */
static void emit_line(struct domain *d)
{
    char prefix[16];

    snprintf(prefix, sizeof(prefix), "(d%u) ", d->domain_id);
    console_write_line(prefix, d->console_line, d->console_len);
    d->console_len = 0;
}

/* One drainer at a time: the poller and a domain's shutdown may both want its ring. */
static DEFINE_SPINLOCK(drain_lock);

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

    unsigned long flags;

    spin_lock(&domain_list_lock);
    flags = spin_lock_irqsave(&drain_lock);
    list_for_each_entry(d, &domain_list, list)
        if (d->console_ring && d->state != DOMST_dying)
            drain_ring(d);
    spin_unlock_irqrestore(&drain_lock, flags);
    spin_unlock(&domain_list_lock);
    console_input_check();
    set_timer(&console_timer, NOW() + CONSOLE_POLL);
}

void guest_console_flush(struct domain *d)
{
    unsigned long flags;

    if (!d->console_ring)
        return;
    flags = spin_lock_irqsave(&drain_lock);
    drain_ring(d);
    if (d->console_len)
        emit_line(d);
    spin_unlock_irqrestore(&drain_lock, flags);
}

/* The poller runs now rather than at its next tick (one poller drains every ring). */
void guest_console_notify(struct domain *d)
{
    (void)d;
    if (__atomic_load_n(&console_timer_ready, __ATOMIC_ACQUIRE))
        set_timer(&console_timer, NOW());
}

void guest_console_start(void)
{
    init_timer(&console_timer, poll_consoles, NULL, smp_processor_id());
    set_timer(&console_timer, NOW() + CONSOLE_POLL);
    __atomic_store_n(&console_timer_ready, true, __ATOMIC_RELEASE);
    console_input_start();
}

/*
 * `domu_console_io`: let every domain write with console_io, as a debug build of Xen
 * does. For kernels that die before their console ring works (Linux's earlyprintk=xen).
 */
static bool opt_domu_console_io;
boolean_param("domu_console_io", opt_domu_console_io);

long do_console_io(hc_arg_t cmd, hc_arg_t count, hc_arg_t buf)
{
    if (!current->domain->is_privileged &&
        !(opt_domu_console_io && (unsigned int)cmd == CONSOLEIO_write))
        return -EPERM;
    switch ((unsigned int)cmd) {
    case CONSOLEIO_write:
        return console_write_from_guest(buf, (unsigned int)count);
    case CONSOLEIO_read:
        if ((unsigned int)count > 0x7fffffffU)
            return -E2BIG;
        return console_read_to_guest(buf, (unsigned int)count);
    default:
        return -ENOSYS;
    }
}
