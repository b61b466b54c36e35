/*
 * From _start to the last test: map shared_info, install the trap table, run every
 * TEST() of the kernel under a trap catch, print the RESULT line, power off.
 */
#include <guest/test.h>
#include <stddef.h>

#ifndef GUEST_KERNEL
#error "GUEST_KERNEL (the test kernel's name) must be defined"
#endif

struct start_info *start_info;
struct shared_info *shared_info;
enum hc_mode hc_mode = HC_PAGE;
/* hc=syscall on the command line: every hypercall (iret too) by bare syscall, for a
 * hypervisor that does not fill the hypercall page yet. */
static enum hc_mode default_hc_mode = HC_PAGE;
extern uint8_t iret_via_syscall;

/* shared_info is mapped at this page. */
char shared_info_page[4096] __aligned(4096);

extern const struct guest_test __start_guest_tests[], __stop_guest_tests[];

static const struct guest_test *current_test;
static bool failed_now, skipped_now;
static unsigned int n_passed, n_failed, n_skipped;

/* layout.h spells these offsets out for the assembly; keep the two in step. */
_Static_assert(GUEST_HYPERCALL_IRET == __HYPERVISOR_iret, "GUEST_HYPERCALL_IRET");
_Static_assert(offsetof(struct trap_frame, r15) == TF_R15, "TF_R15");
_Static_assert(offsetof(struct trap_frame, r11) == TF_R11, "TF_R11");
_Static_assert(offsetof(struct trap_frame, rdi) == TF_RDI, "TF_RDI");
_Static_assert(offsetof(struct trap_frame, vector) == TF_VECTOR, "TF_VECTOR");
_Static_assert(offsetof(struct trap_frame, rip) == TF_RIP, "TF_RIP");
_Static_assert(offsetof(struct trap_frame, ss) == TF_SS, "TF_SS");
_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "TF_SIZE");
_Static_assert(offsetof(struct trap_catch, rsp) == TC_RSP, "TC_RSP");
_Static_assert(offsetof(struct trap_catch, r15) == TC_R15, "TC_R15");
_Static_assert(offsetof(struct trap_catch, outer) == TC_OUTER, "TC_OUTER");
_Static_assert(offsetof(struct entry_regs, rsi) == ER_RSI, "ER_RSI");
_Static_assert(offsetof(struct entry_regs, r15) == ER_R15, "ER_R15");
_Static_assert(offsetof(struct entry_regs, rflags) == ER_RFLAGS, "ER_RFLAGS");
_Static_assert(offsetof(struct entry_regs, gs) == ER_GS, "ER_GS");
_Static_assert(sizeof(struct entry_regs) == ER_SIZE, "ER_SIZE");

__noreturn void guest_shutdown(unsigned int reason)
{
    struct sched_shutdown s = { .reason = reason };

    for (;;) {
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

static void vreport(const char *what, const char *fmt, va_list ap)
{
    char buf[512];

    vsnprintf(buf, sizeof(buf), fmt, ap);
    printf("%s %s: %s\n", what, current_test ? current_test->name : "setup", buf);
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    const char *base = strrchr(file, '/');

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("FAIL %s: %s:%d: %s\n", current_test ? current_test->name : "setup",
           base ? base + 1 : file, line, buf);
    failed_now = true;
}

bool test_failed(void)
{
    return failed_now;
}

void test_skip(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("SKIP", fmt, ap);
    va_end(ap);
    skipped_now = true;
}

void test_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("INFO", fmt, ap);
    va_end(ap);
}

static void call_test(void *arg)
{
    ((const struct guest_test *)arg)->fn();
}

static void run_one(const struct guest_test *t)
{
    struct trap_record r;

    current_test = t;
    failed_now = skipped_now = false;
    hc_mode = default_hc_mode;
    if (catch_trap(call_test, (void *)t, &r) && !failed_now) {
        char cr2[32] = "";

        if (r.vector == 14)
            snprintf(cr2, sizeof(cr2), ", cr2 %#lx", (unsigned long)r.cr2);
        printf("FAIL %s: unexpected %s (error %#lx) at rip %#lx, rsp %#lx%s\n", t->name,
               trap_name(r.vector), (unsigned long)r.error, (unsigned long)r.rip,
               (unsigned long)r.rsp, cr2);
        failed_now = true;
    }
    if (failed_now)
        n_failed++;
    else if (skipped_now)
        n_skipped++;
    else {
        n_passed++;
        printf("PASS %s\n", t->name);
    }
    current_test = NULL;
    /* A test may have changed the trap table; the next one starts from ours. */
    if (traps_reset()) {
        printf("FAIL setup: set_trap_table failed after %s\n", t->name);
        guest_shutdown(SHUTDOWN_crash);
    }
}

static void map_shared_info(void)
{
    long rc = map_mfn((ulong)shared_info_page, start_info->shared_info >> PAGE_SHIFT,
                      _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);

    if (rc) {
        printf("FAIL setup: mapping shared_info (maddr %#lx) returned %ld\n",
               (unsigned long)start_info->shared_info, rc);
        guest_shutdown(SHUTDOWN_crash);
    }
    shared_info = (struct shared_info *)shared_info_page;
}

__noreturn void guest_start(struct start_info *si)
{
    char hc[16];

    start_info = si;
    if (cmdline_get("hc", hc, sizeof(hc)) && !strcmp(hc, "syscall")) {
        default_hc_mode = hc_mode = HC_SYSCALL;
        iret_via_syscall = 1;
    }
    printf("enso-test %s: start_info at %p, %lu pages\n", GUEST_KERNEL, (void *)si,
           (unsigned long)si->nr_pages);
    map_shared_info();
    traps_init();
    for (const struct guest_test *t = __start_guest_tests; t < __stop_guest_tests; t++)
        run_one(t);
    printf("RESULT %s: %u passed, %u failed, %u skipped\n", GUEST_KERNEL, n_passed,
           n_failed, n_skipped);
    guest_shutdown(SHUTDOWN_poweroff);
}

const char *cmdline_get(const char *name, char *buf, size_t size)
{
    const char *s = (const char *)start_info->cmd_line;
    const char *end = s + strnlen(s, MAX_GUEST_CMDLINE);
    size_t len = strlen(name);

    while (s < end) {
        while (s < end && *s == ' ')
            s++;
        if ((size_t)(end - s) > len && !strncmp(s, name, len) && s[len] == '=') {
            size_t n = 0;

            s += len + 1;
            while (s + n < end && s[n] != ' ')
                n++;
            if (!size)
                return NULL;
            n = MIN(n, size - 1);
            memcpy(buf, s, n);
            buf[n] = 0;
            return buf;
        }
        while (s < end && *s != ' ')
            s++;
    }
    return NULL;
}

unsigned long long cmdline_get_num(const char *name, unsigned long long dflt)
{
    char buf[32];
    const char *end;
    unsigned long long v;

    if (!cmdline_get(name, buf, sizeof(buf)))
        return dflt;
    v = simple_strtoull(buf, &end, 0);
    return *end ? dflt : v;
}
