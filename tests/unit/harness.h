/*
 * A tiny host unit-test harness. Each test binary runs its TEST functions in order and
 * prints one line per test (PASS name / FAIL name: reason) and a last line
 * "unit-<binary>: N passed, N failed"; tests/unit/run sums the binaries up.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_test {
    const char *name;
    void (*fn)(void);
};

extern int unit_failed_now;
extern const char *unit_current;

#define TEST(fn_name)                                                                  \
    static void fn_name(void);                                                         \
    static const struct unit_test unit_##fn_name                                       \
        __attribute__((used, section("unit_tests"), aligned(sizeof(void *)))) = {      \
            #fn_name, fn_name};                                                        \
    static void fn_name(void)

/* Fails the current test (and returns from it) when cond is false. */
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            printf("FAIL %s: %s:%d: %s\n", unit_current, __FILE__, __LINE__, #cond);  \
            unit_failed_now = 1;                                                       \
            return;                                                                    \
        }                                                                              \
    } while (0)

#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        long long _a = (long long)(a), _b = (long long)(b);                            \
        if (_a != _b) {                                                                \
            printf("FAIL %s: %s:%d: %s == %lld, expected %s == %lld\n", unit_current,  \
                   __FILE__, __LINE__, #a, _a, #b, _b);                                \
            unit_failed_now = 1;                                                       \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* Text printk() produced since the last unit_log_clear(), for tests of messages. */
const char *unit_log(void);
void unit_log_clear(void);

#endif
