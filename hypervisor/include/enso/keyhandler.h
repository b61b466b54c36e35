/* Debug keys: single characters typed on the serial console run diagnostic dumps. */
#ifndef ENSO_KEYHANDLER_H
#define ENSO_KEYHANDLER_H

#include <enso/types.h>

struct keyhandler {
    char key;
    void (*fn)(char key);
    const char *desc;
};

#define register_keyhandler(k, f, d)                                                    \
    static const struct keyhandler __keyh_##f __used __section("enso_keyhandlers")      \
        __aligned(8) = { (k), (f), (d) }

void handle_keypress(char key);

#endif
