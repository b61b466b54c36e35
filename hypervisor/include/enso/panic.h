/* When enso itself is broken: report and stop (or reboot). */
#ifndef ENSO_PANIC_H
#define ENSO_PANIC_H

#include <enso/types.h>

void panic(const char *fmt, ...) __printf(1, 2) __noreturn;
/* Reboot the machine now (ACPI reset, keyboard controller, then a triple fault). */
void machine_restart(void) __noreturn;
void machine_halt(void) __noreturn;

/* For enso's own broken invariants only: never for guest-caused errors. */
#define BUG_ON(c)                                                                      \
    do {                                                                               \
        if (unlikely(c))                                                               \
            panic("BUG at %s:%d: %s", __FILE__, __LINE__, #c);                          \
    } while (0)
#define BUG() panic("BUG at %s:%d", __FILE__, __LINE__)

#ifdef NDEBUG
#define ASSERT(c) do { } while (0)
#else
#define ASSERT(c) BUG_ON(!(c))
#endif

#endif
