/* The console: where printk's text goes, and where typed characters come from. */
#ifndef ENSO_CONSOLE_H
#define ENSO_CONSOLE_H

#include <enso/types.h>

/* Bring the serial console up per `console=` / `comN=`; flushes text printed before. */
void console_init(void);
/* Write raw text to every console (no level filtering, no timestamp). */
void console_write(const char *s, size_t len);
/* After a panic: stop honouring the console lock so the dying CPU can always print. */
void console_force_unlock(void);
/* A character arrived on the serial line (called from the UART interrupt or poller). */
void console_rx_char(char c);
/* Timestamps on printk lines become available once system time is. */
void console_start_timestamps(void);
extern int console_loglevel;

/* The serial driver's interface (arch/x86/serial.c). */
struct serial_port {
    uint16_t io_base;
    uint32_t baud;
    uint8_t irq;
    bool present;
};
int serial_setup(struct serial_port *p, const char *spec);
void serial_putc(struct serial_port *p, char c);
int serial_getc(struct serial_port *p); /* -1 when nothing is waiting */
void serial_enable_rx_irq(struct serial_port *p);



void console_poll_rx(void);
int console_irq(void);   /* the ISA IRQ of the console UART, or -1 */
void console_enable_rx(void);
#endif
