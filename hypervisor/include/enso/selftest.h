/*
 * Boot-time self-tests, chosen with `selftest=<name>[,<name>...]` (or `selftest=all`).
 * Each prints "selftest <name>: PASS" or "selftest <name>: FAIL <reason>".
 */
#ifndef ENSO_SELFTEST_H
#define ENSO_SELFTEST_H

#include <enso/types.h>

struct selftest {
    const char *name;
    /* Returns NULL on success, or a reason for the failure. */
    const char *(*fn)(void);
    bool in_all; /* run by selftest=all (the deliberate fault is not) */
};

#define register_selftest(n, f, all)                                                    \
    static const struct selftest __selftest_##f __used __section("enso_selftests")      \
        __aligned(8) = { (n), (f), (all) }

void run_selftests(void);

#endif
