/*
 * printk and the serial console. Text printed before the UART is set up (while the
 * command line that configures it is still being parsed) is kept and flushed by
 * console_init(). Every line gets the "(enso) " prefix and, once system time runs, a
 * timestamp in seconds.
 */
#include <enso/cmdline.h>
#include <enso/console.h>
#include <enso/keyhandler.h>
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/softirq.h>
#include <enso/spinlock.h>
#include <asm/processor.h>
#include <enso/time.h>

int console_loglevel = LOG_LEVEL_INFO;
static unsigned long opt_loglvl = LOG_LEVEL_INFO;
integer_param("loglvl", opt_loglvl);

static char opt_console[32] = "com1";
string_param("console", opt_console);
static char opt_com1[48], opt_com2[48];
string_param("com1", opt_com1);
string_param("com2", opt_com2);

static struct serial_port com1 = { .io_base = 0x3f8, .baud = 115200, .irq = 4 };
static struct serial_port com2 = { .io_base = 0x2f8, .baud = 115200, .irq = 3 };
static struct serial_port *console_port;

static DEFINE_SPINLOCK(console_lock);
static bool console_ready, timestamps, at_line_start = true;

static char early_buf[16384];
static size_t early_len;

static void port_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            serial_putc(console_port, '\r');
        serial_putc(console_port, s[i]);
    }
}

/* Called with console_lock held, or before other CPUs run. */
static void write_locked(const char *s, size_t len)
{
    if (console_ready) {
        if (console_port)
            port_write(s, len);
        return;
    }
    len = MIN(len, sizeof(early_buf) - early_len);
    memcpy(early_buf + early_len, s, len);
    early_len += len;
}

/*
 * Text that is not a printk (a domain's line, domain 0's console_io) goes out under the
 * same lock, so it never lands in the middle of an enso line or another domain's.
 */
void console_write(const char *s, size_t len)
{
    unsigned long flags = spin_lock_irqsave(&console_lock);

    write_locked(s, len);
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_write_line(const char *prefix, const char *s, size_t len)
{
    unsigned long flags = spin_lock_irqsave(&console_lock);

    write_locked(prefix, strlen(prefix));
    write_locked(s, len);
    write_locked("\n", 1);
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_force_unlock(void)
{
    spin_lock_init(&console_lock);
}

void console_start_timestamps(void)
{
    timestamps = true;
}

static void line_prefix(void)
{
    char pre[40];
    int n;

    if (timestamps) {
        s_time_t t = NOW();
        n = snprintf(pre, sizeof(pre), "(enso) [%5lld.%06lld] ", (long long)(t / 1000000000LL),
                     (long long)((t / 1000) % 1000000));
    } else {
        n = snprintf(pre, sizeof(pre), "(enso) ");
    }
    write_locked(pre, (size_t)n);
}

/* Writes text, putting the prefix at the start of each line. */
static void emit(const char *s)
{
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);

        if (at_line_start)
            line_prefix();
        write_locked(s, len);
        at_line_start = nl != NULL;
        s += len;
    }
}

void vprintk(const char *fmt, va_list ap)
{
    char buf[512];
    const char *text = buf;
    int level = LOG_LEVEL_INFO;
    unsigned long flags;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (buf[0] == '<' && buf[1] >= '0' && buf[1] <= '9' && buf[2] == '>') {
        level = buf[1] - '0';
        text += 3;
    }
    if (level > console_loglevel)
        return;
    flags = spin_lock_irqsave(&console_lock);
    emit(text);
    spin_unlock_irqrestore(&console_lock, flags);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

static struct serial_port *choose_port(void)
{
    if (strcmp(opt_console, "com1") == 0) {
        serial_setup(&com1, opt_com1);
        return com1.present ? &com1 : NULL;
    }
    if (strcmp(opt_console, "com2") == 0) {
        serial_setup(&com2, opt_com2);
        return com2.present ? &com2 : NULL;
    }
    return NULL;
}

void console_init(void)
{
    console_loglevel = (int)MIN(opt_loglvl, 9UL);
    console_port = choose_port();
    console_ready = true;
    if (console_port)
        port_write(early_buf, early_len);
    if (!console_port && strcmp(opt_console, "none") != 0)
        printk(LOG_WARNING "console: '%s' is not a usable console\n", opt_console);
    early_len = 0;
}

/*
 * Typed characters are queued here and handled from a softirq, with interrupts on, so
 * a debug key may do anything (such as asking every CPU to dump its state).
 */
static char rx_ring[64];
static unsigned int rx_prod, rx_cons, rx_lost;

/*
 * From the UART interrupt, and from the softirq once it has made room: characters
 * move from the UART to the ring while there is room. The rest wait in the UART (whose
 * sender, QEMU or a terminal, then holds back), so a burst larger than the ring (a CPU
 * that took the interrupt late) loses nothing. Interrupts off.
 */
void console_poll_rx(void)
{
    int c;

    while (console_port && rx_prod - rx_cons < sizeof(rx_ring) &&
           (c = serial_getc(console_port)) >= 0)
        console_rx_char((char)c);
}

void console_rx_char(char c)
{
    if (rx_prod - rx_cons < sizeof(rx_ring))
        rx_ring[rx_prod++ % sizeof(rx_ring)] = c;
    else
        rx_lost++;
    raise_softirq(KEYPRESS_SOFTIRQ);
}

/*
 * Who receives typed characters: enso (debug keys) or a domain id. Xen rotates the focus
 * among itself, dom0 and the domains it built at boot; enso does the same with every
 * live domain. input_lock guards the focus and the switch-code count; it is taken from
 * softirqs only (the keypress one and the domain-console poller).
 */
static DEFINE_SPINLOCK(input_lock);
static int input_focus = CONSOLE_FOCUS_ENSO;
static struct console_switch input_switch;

static void announce_focus(int focus)
{
    if (focus == CONSOLE_FOCUS_ENSO)
        printk("*** Serial input to enso (type 'CTRL-%c' three times to switch input)\n",
               CONSOLE_SWITCH_KEY);
    else
        printk("*** Serial input to DOM%d (type 'CTRL-%c' three times to switch input)\n",
               focus, CONSOLE_SWITCH_KEY);
}

static void switch_input(void)
{
    input_focus = guest_console_next_input(input_focus);
    announce_focus(input_focus);
}

void console_input_start(void)
{
    spin_lock(&input_lock);
    input_focus = CONSOLE_FOCUS_ENSO;
    switch_input();
    spin_unlock(&input_lock);
}

/* The focus domain has died: enso takes the input back (unless it moved meanwhile). */
static void focus_lost(int id)
{
    spin_lock(&input_lock);
    if (input_focus == id) {
        input_focus = CONSOLE_FOCUS_ENSO;
        announce_focus(input_focus);
    }
    spin_unlock(&input_lock);
}

void console_input_check(void)
{
    int focus = READ_ONCE(input_focus);

    if (focus != CONSOLE_FOCUS_ENSO && !guest_console_live(focus))
        focus_lost(focus);
}

/* Debug keys may do anything (wait for other CPUs too), so no lock is held for them. */
static void serial_input(char c)
{
    char out[CONSOLE_SWITCH_MAX_OUT];
    int n, focus;

    spin_lock(&input_lock);
    n = console_switch_feed(&input_switch, c, out);
    if (n == CONSOLE_SWITCH)
        switch_input();
    focus = input_focus;
    spin_unlock(&input_lock);
    if (n <= 0)
        return;
    if (focus == CONSOLE_FOCUS_ENSO) {
        for (int i = 0; i < n; i++)
            handle_keypress(out[i]);
    } else if (!guest_console_input(focus, out, (size_t)n)) {
        focus_lost(focus);
    }
}

static void keypress_softirq(void)
{
    unsigned long flags = local_irq_save();

    if (rx_lost) {
        unsigned int lost = rx_lost;

        rx_lost = 0;
        local_irq_restore(flags);
        printk(LOG_WARNING "console: %u typed bytes lost (input ring full)\n", lost);
        flags = local_irq_save();
    }
    for (;;) {
        char c;

        if (rx_cons == rx_prod)
            console_poll_rx(); /* what stayed in the UART while the ring was full */
        if (rx_cons == rx_prod)
            break;
        c = rx_ring[rx_cons++ % sizeof(rx_ring)];
        local_irq_restore(flags);
        serial_input(c);
        flags = local_irq_save();
    }
    local_irq_restore(flags);
}

int console_irq(void)
{
    return console_port ? console_port->irq : -1;
}

void console_enable_rx(void)
{
    open_softirq(KEYPRESS_SOFTIRQ, keypress_softirq);
    if (console_port)
        serial_enable_rx_irq(console_port);
}
