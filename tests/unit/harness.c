/* Runs every TEST in the binary, then prints the per-binary summary line. */
#include <stdarg.h>
#include "harness.h"

int unit_failed_now;
const char *unit_current;

extern const struct unit_test __start_unit_tests[], __stop_unit_tests[];

static char log_buf[65536];
static size_t log_len;

const char *unit_log(void) { return log_buf; }
void unit_log_clear(void) { log_len = 0; log_buf[0] = 0; }

/* enso's printk, for the host: keep the text for unit_log() and echo it when verbose. */
void vprintk(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, copy);
    va_end(copy);
    if (n > 0 && log_len + (size_t)n < sizeof(log_buf))
        log_len += (size_t)n;
    if (getenv("UNIT_VERBOSE"))
        vprintf(fmt, ap);
}

void printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    (void)argc;
    for (const struct unit_test *t = __start_unit_tests; t < __stop_unit_tests; t++) {
        unit_current = t->name;
        unit_failed_now = 0;
        unit_log_clear();
        t->fn();
        if (unit_failed_now) {
            failed++;
        } else {
            passed++;
            printf("PASS %s\n", t->name);
        }
    }
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed ? 1 : 0;
}
