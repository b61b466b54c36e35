/*
 * Console output of a test kernel. Domain 0 writes with console_io(CONSOLEIO_write);
 * any other domain writes into its console ring (start_info.console.domU) and kicks
 * the back end through the ring's event channel, waiting (yielding) while the ring is
 * full. Nothing here may fault: this is also how a fault gets reported.
 */
#include <guest/guest.h>
#include <public/console.h>

static struct xencons_interface *ring;
static uint32_t ring_port;

/* Once mapped, the ring lives at this page; only domUs use it. */
char console_ring_page[4096] __aligned(4096);

static void ring_setup(void)
{
    if (ring || !start_info->console.domU.mfn)
        return;
    if (map_mfn((ulong)console_ring_page, start_info->console.domU.mfn,
                _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY))
        return;
    ring = (struct xencons_interface *)console_ring_page;
    ring_port = start_info->console.domU.evtchn;
}

static void ring_kick(void)
{
    struct evtchn_send send = { .port = ring_port };

    HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static void ring_write(const char *s, size_t n)
{
    while (n) {
        uint32_t prod = ring->out_prod;
        uint32_t used = prod - READ_ONCE(ring->out_cons);
        size_t room = sizeof(ring->out) - used;

        if (used > sizeof(ring->out) || !room) {
            ring_kick();
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
            continue;
        }
        for (; n && room; n--, room--)
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = *s++;
        /* The bytes must be visible before the index that publishes them. */
        __asm__ __volatile__("sfence" ::: "memory");
        ring->out_prod = prod;
        ring_kick();
    }
}

void console_write(const char *s, size_t n)
{
    if (!start_info || (start_info->flags & SIF_INITDOMAIN)) {
        HYPERVISOR_console_io(CONSOLEIO_write, (unsigned int)n, s);
        return;
    }
    ring_setup();
    if (ring)
        ring_write(s, n);
    else
        HYPERVISOR_console_io(CONSOLEIO_write, (unsigned int)n, s);
}

int vprintf(const char *fmt, va_list ap)
{
    static char buf[1024];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    console_write(buf, MIN((size_t)n, sizeof(buf) - 1));
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
