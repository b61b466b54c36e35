/* Running the self-tests named on the command line. */
#include <enso/cmdline.h>
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/selftest.h>

extern const struct selftest __start_selftests[], __stop_selftests[];

static char opt_selftest[128];
string_param("selftest", opt_selftest);

/* Is `name` in the comma-separated list? */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return true;
        p += len + (comma ? 1 : 0);
    }
    return false;
}

static bool known(const char *name, size_t len)
{
    for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++)
        if (strlen(t->name) == len && !strncmp(t->name, name, len))
            return true;
    return len == 3 && !strncmp(name, "all", 3);
}

static void report_unknown(void)
{
    for (const char *p = opt_selftest; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len && !known(p, len))
            printk(LOG_WARNING "selftest: no self-test named '%.*s'\n", (int)len, p);
        p += len + (comma ? 1 : 0);
    }
}

void run_selftests(void)
{
    bool all = listed(opt_selftest, "all");

    if (!opt_selftest[0])
        return;
    report_unknown();
    for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++) {
        if (!(all && t->in_all) && !listed(opt_selftest, t->name))
            continue;
        printk("selftest %s: running\n", t->name);
        const char *why = t->fn();
        if (why)
            printk("selftest %s: FAIL %s\n", t->name, why);
        else
            printk("selftest %s: PASS\n", t->name);
    }
}
