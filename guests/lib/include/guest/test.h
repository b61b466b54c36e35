/*
 * Writing a test kernel: one file in guests/tests/, a TEST() per check.
 *
 *     #include <guest/test.h>
 *
 *     TEST(version_major)
 *     {
 *         long v = HYPERVISOR_xen_version(XENVER_version, NULL);
 *         CHECK_EQ(v >> 16, 4);
 *     }
 *
 * Tests run in the order they are written, each under a trap catch. Each prints one
 * line: "PASS <name>", "FAIL <name>: <reason>" (the first failed CHECK, or an
 * unexpected trap) or "SKIP <name>: <reason>". After the last one the kernel prints
 * "RESULT <kernel>: N passed, N failed, N skipped" and powers the domain off.
 * INFO() lines record what was observed; the runner shows them but does not count them.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include <guest/guest.h>
#include <guest/traps.h>

struct guest_test {
    const char *name;
    void (*fn)(void);
};

/* The function is test_<name>, so test names cannot clash with library functions. */
#define TEST(name)                                                                     \
    static void test_##name(void);                                                     \
    static const struct guest_test guest_test_##name                                   \
        __attribute__((used, section("guest_tests"), aligned(8))) = {#name, test_##name}; \
    static void test_##name(void)

void test_fail(const char *file, int line, const char *fmt, ...) __printf(3, 4);
void test_skip(const char *fmt, ...) __printf(1, 2);
void test_info(const char *fmt, ...) __printf(1, 2);
/* Whether the running test has failed a check (for helpers that CHECK and return). */
bool test_failed(void);

/* Fail the current test (and return from it) when cond is false. */
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            test_fail(__FILE__, __LINE__, "%s", #cond);                                \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* The same with a message of one's own. */
#define CHECKF(cond, ...)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);                                \
            return;                                                                    \
        }                                                                              \
    } while (0)

#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                            \
        if (a_ != b_) {                                                                \
            test_fail(__FILE__, __LINE__, "%s == %lld (%#llx), expected %s == %lld (%#llx)", \
                      #a, a_, (unsigned long long)a_, #b, b_, (unsigned long long)b_); \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* A trap must have happened (catch_trap returned true) with this vector. */
#define CHECK_TRAP(trapped, rec, vec)                                                  \
    do {                                                                               \
        CHECKF(trapped, "no trap, expected %s", trap_name(vec));                       \
        CHECKF((rec).vector == (unsigned int)(vec),                                    \
               "got %s (error %#lx at rip %#lx), expected %s", trap_name((rec).vector),  \
               (unsigned long)(rec).error, (unsigned long)(rec).rip, trap_name(vec));  \
    } while (0)

#define CHECK_NO_TRAP(trapped, rec)                                                    \
    CHECKF(!(trapped), "unexpected %s (error %#lx) at rip %#lx", trap_name((rec).vector), \
           (unsigned long)(rec).error, (unsigned long)(rec).rip)

#define SKIP(...)                                                                      \
    do {                                                                               \
        test_skip(__VA_ARGS__);                                                        \
        return;                                                                        \
    } while (0)

#define INFO(...) test_info(__VA_ARGS__)

#endif
