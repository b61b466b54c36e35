/*
 * Serial input: echoes every typed line back as "ECHO <line>" until the line "quit".
 * Domain 0 reads with console_io(CONSOLEIO_read); any other domain reads the in half
 * of its console ring. The line "fault" makes domain 0 read into a NULL buffer once. Control characters are echoed as ^X, so a lone Ctrl-A (which
 * the hypervisor passes on unless three come in a row) shows as "^A".
 *
 * It waits for someone to type, so tests/guests/run.py leaves it out; the scenario
 * "console-input" in tests/qemu/domain_tests.py drives it.
 */
#include <guest/test.h>
#include <public/console.h>

static struct xencons_interface *ring;

static bool uses_console_io(void)
{
    return start_info->flags & SIF_INITDOMAIN;
}

/* The ring is mapped a second time, at a page of our own: the library's stays as is. */
static long map_ring(void)
{
    long rc = map_mfn((ulong)scratch_page, start_info->console.domU.mfn,
                      _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);

    if (!rc)
        ring = (struct xencons_interface *)scratch_page;
    return rc;
}

static size_t ring_read(char *buf, size_t size)
{
    uint32_t cons = ring->in_cons, prod = READ_ONCE(ring->in_prod);
    size_t n = 0;

    /* Loads are not reordered with loads on x86: the bytes are read after prod. */
    barrier();
    if (prod - cons > sizeof(ring->in))
        cons = prod - sizeof(ring->in);
    while (cons != prod && n < size)
        buf[n++] = ring->in[MASK_XENCONS_IDX(cons++, ring->in)];
    barrier();
    ring->in_cons = cons;
    return n;
}

/* Whatever has been typed, up to size bytes; 0 if nothing. */
static size_t read_input(char *buf, size_t size)
{
    long n;

    if (!uses_console_io())
        return ring_read(buf, size);
    n = HYPERVISOR_console_io(CONSOLEIO_read, (unsigned int)size, buf);
    return n > 0 ? (size_t)n : 0;
}

/* The line as printable text: control characters become ^X. */
static void echo(const char *line, size_t len)
{
    char out[2 * 128 + 1];
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if (c < 32 || c == 127) {
            out[o++] = '^';
            out[o++] = (char)(c ^ 0x40);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
    printf("ECHO %s\n", out);
}

/*
 * The line "fault" (domain 0): wait for the next input with a NULL buffer. Xen answers
 * 0 while nothing is typed, then -EFAULT, and keeps what was typed for the next read.
 */
static void read_into_null(void)
{
    long rc;

    printf("FAULT waiting\n");
    while (!(rc = HYPERVISOR_console_io(CONSOLEIO_read, 16, NULL)))
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    printf("FAULT %ld\n", rc);
}

TEST(echo)
{
    char line[128], buf[64];
    size_t len = 0;

    if (!uses_console_io())
        CHECK_EQ(map_ring(), 0);
    printf("console_in: reading %s\n", uses_console_io() ? "console_io" : "the console ring");
    for (;;) {
        size_t n = read_input(buf, sizeof(buf));

        if (!n)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        for (size_t i = 0; i < n; i++) {
            if (buf[i] != '\r' && buf[i] != '\n') {
                if (len < sizeof(line))
                    line[len++] = buf[i];
                continue;
            }
            if (len == 4 && !memcmp(line, "quit", 4))
                return;
            if (len == 5 && !memcmp(line, "fault", 5) && uses_console_io()) {
                read_into_null();
                len = 0;
                continue;
            }
            if (len)
                echo(line, len);
            len = 0;
        }
    }
}
