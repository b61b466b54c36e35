/* Dispatch of debug keys; 'h' lists them. */
#include <enso/keyhandler.h>
#include <enso/printk.h>

extern const struct keyhandler __start_keyhandlers[], __stop_keyhandlers[];

static void show_help(char key)
{
    printk("'%c' pressed -> showing the debug keys\n", key);
    for (const struct keyhandler *k = __start_keyhandlers; k < __stop_keyhandlers; k++)
        printk("  key '%c': %s\n", k->key, k->desc);
}
register_keyhandler('h', show_help, "show this help");

void handle_keypress(char key)
{
    for (const struct keyhandler *k = __start_keyhandlers; k < __stop_keyhandlers; k++) {
        if (k->key == key) {
            k->fn(key);
            return;
        }
    }
}
