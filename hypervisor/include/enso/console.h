/* The console: where printk's text goes, and where typed characters come from. */
#ifndef ENSO_CONSOLE_H
#define ENSO_CONSOLE_H

#include <enso/types.h>

/* Bring the serial console up per `console=` / `comN=`; flushes text printed before. */
void console_init(void);
/* Write raw text to every console (no level filtering, no timestamp). */
void console_write(const char *s, size_t len);
/* prefix, then len bytes of s, then a newline, all together on the console. */
void console_write_line(const char *prefix, const char *s, size_t len);
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

/*
 * Serial input focus: enso's debug keys or one domain. Typing the switch code (Ctrl-A)
 * three times in a row moves it: enso, each live domain in id order, enso again.
 */
#define CONSOLE_FOCUS_ENSO (-1)
/* After the boot-time domains start: focus to the first of them, say so once. */
void console_input_start(void);
/* Called periodically: a focus domain that has died gives the focus back to enso. */
void console_input_check(void);

/* The switch-code counter (console_input.c). */
#define CONSOLE_SWITCH_KEY 'a'
#define CONSOLE_SWITCH_CODE ((char)(CONSOLE_SWITCH_KEY - 'a' + 1))
#define CONSOLE_SWITCH (-1)
#define CONSOLE_SWITCH_MAX_OUT 3
struct console_switch {
    unsigned int pending;   /* switch codes typed in a row so far (0-2) */
};
/*
 * One typed character: CONSOLE_SWITCH when it is the third switch code in a row, else
 * how many characters (0-3) it releases into out[] for the focus to receive.
 */
int console_switch_feed(struct console_switch *s, char c, char out[CONSOLE_SWITCH_MAX_OUT]);

/* Typed bytes into a guest's console ring; returns how many fitted (the rest is lost). */
struct xencons_interface;
size_t xencons_put_input(struct xencons_interface *r, const char *s, size_t len);

/*
 * The domain side (guest_console.c); ids are domain ids. Live means running (not shut
 * down or dying). The next after `after` (CONSOLE_FOCUS_ENSO: the first) live domain
 * in id order, or CONSOLE_FOCUS_ENSO when there is none.
 */
int guest_console_next_input(int after);
bool guest_console_live(int id);
/* Hand typed bytes to domain id; false if it is not live (the bytes are dropped). */
bool guest_console_input(int id, const char *s, size_t len);
#endif
