/* The 16550 UART driver for the serial console. */
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <asm/io.h>

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0 /* divisor latch, with LCR.DLAB set */
#define UART_DLM 1
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define UART_CLOCK 115200

/*
 * spec: "<baud>[,8n1][,<io-port>[,<irq>]]", e.g. "115200,8n1,0x3f8,4". Only 8n1 framing
 * is supported; anything else is rejected so a typo is not silently ignored.
 */
static int parse_spec(struct serial_port *p, const char *spec)
{
    const char *s = spec;

    if (!s || !*s)
        return 0;
    if (*s != ',') {
        p->baud = (uint32_t)simple_strtoull(s, &s, 10);
        if (p->baud == 0 || p->baud > UART_CLOCK || UART_CLOCK % p->baud)
            return -EINVAL;
    }
    if (*s == ',' && strncmp(s + 1, "8n1", 3) == 0)
        s += 4;
    if (*s == ',' && s[1] && s[1] != ',') {
        p->io_base = (uint16_t)simple_strtoull(s + 1, &s, 0);
        if (*s == ',')
            p->irq = (uint8_t)simple_strtoull(s + 1, &s, 0);
    }
    return *s ? -EINVAL : 0;
}

int serial_setup(struct serial_port *p, const char *spec)
{
    uint16_t b = 0, div;
    int rc = parse_spec(p, spec);

    if (rc)
        return rc;
    b = p->io_base;
    div = (uint16_t)(UART_CLOCK / p->baud);
    outb(0, b + UART_IER);
    outb(LCR_DLAB, b + UART_LCR);
    outb(div & 0xff, b + UART_DLL);
    outb(div >> 8, b + UART_DLM);
    outb(0x03, b + UART_LCR);  /* 8n1, DLAB off */
    outb(0x07, b + UART_FCR);  /* FIFOs on and cleared */
    outb(0x0b, b + UART_MCR);  /* DTR, RTS, OUT2 (OUT2 gates the IRQ line) */
    /* No UART answers with all-ones: then there is nothing at this port. */
    p->present = inb(b + UART_LSR) != 0xff;
    return p->present ? 0 : -ENODEV;
}

void serial_putc(struct serial_port *p, char c)
{
    unsigned int spins = 0;

    if (!p->present)
        return;
    /* Bounded wait: a wedged UART must not hang enso. */
    while (!(inb(p->io_base + UART_LSR) & LSR_THRE) && ++spins < 100000)
        __asm__ volatile("pause");
    outb((uint8_t)c, p->io_base + UART_THR);
}

int serial_getc(struct serial_port *p)
{
    if (!p->present || !(inb(p->io_base + UART_LSR) & LSR_DR))
        return -1;
    return inb(p->io_base + UART_RBR);
}

void serial_enable_rx_irq(struct serial_port *p)
{
    if (p->present)
        outb(0x01, p->io_base + UART_IER); /* data-available interrupt only */
}
